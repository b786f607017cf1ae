// Up axis and ground plane from three or more points the user picked on the
// floor: the least-squares plane through them (its normal is the eigenvector
// of the smallest eigenvalue of their covariance), oriented to the side the
// cameras are on, and the rigid transform that levels the scene: ground normal
// to +Y (three.js up), ground through the origin.

import { StudioError } from '../../common/errors';
import type { Vec3 } from './measure';

export interface GroundPlane {
  /** Mean of the picked points. */
  centroid: Vec3;
  /** Unit normal, pointing "up" (towards `towards`, or along `upHint`). */
  normal: Vec3;
  /** Plane offset: normal · x + offset = 0 on the plane. */
  offset: number;
  /** Root-mean-square distance of the picked points from the plane (scene units). */
  rmsResidual: number;
}

export interface GroundPlaneOptions {
  /** A point on the upper side of the ground, e.g. a camera centre (preferred). */
  towards?: Vec3;
  /**
   * Used when `towards` is absent: the direction that is roughly up in the
   * points' frame. Default [0, −1, 0], up in the engine's OpenCV world (y down).
   */
  upHint?: Vec3;
}

/** Eigen-decomposition of a symmetric 3x3 (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen3(m: number[]): { values: Vec3; vectors: [Vec3, Vec3, Vec3] } {
  const a = m.slice();
  const v = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5];
    if (off < 1e-30) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const apq = a[p * 3 + q];
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1),
        s = t * c;
      for (let k = 0; k < 3; k++) {
        // A ← Jᵀ A J, applied as column then row rotations.
        const akp = a[k * 3 + p],
          akq = a[k * 3 + q];
        a[k * 3 + p] = c * akp - s * akq;
        a[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p * 3 + k],
          aqk = a[q * 3 + k];
        a[p * 3 + k] = c * apk - s * aqk;
        a[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p],
          vkq = v[k * 3 + q];
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[i * 3 + i] - a[j * 3 + j]);
  const column = (j: number): Vec3 => [v[j], v[3 + j], v[6 + j]];
  return {
    values: order.map((j) => a[j * 3 + j]) as Vec3,
    vectors: order.map(column) as [Vec3, Vec3, Vec3],
  };
}

/** Least-squares plane through `points` (at least 3, not collinear). */
export function fitGroundPlane(points: Vec3[], opts: GroundPlaneOptions = {}): GroundPlane {
  if (points.length < 3 || !points.every((p) => p.every(Number.isFinite))) {
    throw new StudioError(
      'invalid-input',
      `A ground plane needs at least 3 picked points on the floor (got ${points.length}).`,
      'Pick three or more points spread over the floor.',
    );
  }
  const n = points.length;
  const centroid: Vec3 = [0, 0, 0];
  for (const p of points) for (let a = 0; a < 3; a++) centroid[a] += p[a] / n;
  const cov = new Array<number>(9).fill(0);
  for (const p of points) {
    const d = [p[0] - centroid[0], p[1] - centroid[1], p[2] - centroid[2]];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) cov[r * 3 + c] += d[r] * d[c];
  }
  const { values, vectors } = symmetricEigen3(cov);
  // Collinear (or coincident) points leave two eigenvalues near zero: no unique plane.
  if (!(values[1] > 1e-12 * Math.max(values[2], 1e-300)) || values[2] <= 0) {
    throw new StudioError(
      'invalid-input',
      'The picked points lie on one line, so they do not define a floor plane.',
      'Pick points spread over the floor, not along a line.',
    );
  }
  let normal = vectors[0];
  const up = opts.towards
    ? [opts.towards[0] - centroid[0], opts.towards[1] - centroid[1], opts.towards[2] - centroid[2]]
    : (opts.upHint ?? [0, -1, 0]);
  if (normal[0] * up[0] + normal[1] * up[1] + normal[2] * up[2] < 0)
    normal = [-normal[0], -normal[1], -normal[2]];
  const offset = -(normal[0] * centroid[0] + normal[1] * centroid[1] + normal[2] * centroid[2]);
  let sq = 0;
  for (const p of points) sq += (normal[0] * p[0] + normal[1] * p[1] + normal[2] * p[2] + offset) ** 2;
  return { centroid, normal, offset, rmsResidual: Math.sqrt(sq / n) };
}

/** The rotation (row-major 3x3) taking unit vector `from` to unit vector `to` by the shortest arc. */
export function rotationBetween(from: Vec3, to: Vec3): number[] {
  const norm = (v: Vec3): Vec3 => {
    const l = Math.hypot(...v);
    return [v[0] / l, v[1] / l, v[2] / l];
  };
  const f = norm(from),
    t = norm(to);
  const c = f[0] * t[0] + f[1] * t[1] + f[2] * t[2];
  if (c < -1 + 1e-12) {
    // Opposite vectors: a half turn about any axis perpendicular to `from`.
    const helper: Vec3 = Math.abs(f[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    const axis = norm([
      f[1] * helper[2] - f[2] * helper[1],
      f[2] * helper[0] - f[0] * helper[2],
      f[0] * helper[1] - f[1] * helper[0],
    ]);
    // R = 2 a aᵀ − I
    return [0, 1, 2].flatMap((r) => [0, 1, 2].map((col) => 2 * axis[r] * axis[col] - (r === col ? 1 : 0)));
  }
  // Rodrigues with v = f × t: R = I + [v]× + [v]×² / (1 + c).
  const v: Vec3 = [f[1] * t[2] - f[2] * t[1], f[2] * t[0] - f[0] * t[2], f[0] * t[1] - f[1] * t[0]];
  const k = 1 / (1 + c);
  return [
    c + k * v[0] * v[0],
    k * v[0] * v[1] - v[2],
    k * v[0] * v[2] + v[1],
    k * v[1] * v[0] + v[2],
    c + k * v[1] * v[1],
    k * v[1] * v[2] - v[0],
    k * v[2] * v[0] - v[1],
    k * v[2] * v[1] + v[0],
    c + k * v[2] * v[2],
  ];
}

/**
 * Row-major 4x4 `levelledFromScene`: rotates the ground normal onto +Y and
 * moves the plane to y = 0 with the picked points' centroid above the origin.
 */
export function levellingTransform(plane: GroundPlane, up: Vec3 = [0, 1, 0]): number[] {
  const r = rotationBetween(plane.normal, up);
  const c = plane.centroid;
  const t = [0, 1, 2].map((row) => -(r[row * 3] * c[0] + r[row * 3 + 1] * c[1] + r[row * 3 + 2] * c[2]));
  return [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2], 0, 0, 0, 1];
}
