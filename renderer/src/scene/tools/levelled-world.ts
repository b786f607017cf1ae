// The world the viewer shows: the stored (OpenCV) world, levelled by the
// scene's ground alignment when one is set. Tools draw and edit in this
// levelled world (still OpenCV axes, up = −y); the viewer's OpenCV → three.js
// flip is applied around it, so three = flip · alignment · stored point.

import { Box3, Matrix4, Vector3 } from 'three';
import { matrixFromRowMajor } from '../opencv-axes';

export type Vec3 = [number, number, number];

/** levelledFromStored as a three.js matrix (identity without a ground alignment). */
export function alignmentMatrix(groundAlignment: readonly number[] | null): Matrix4 {
  return groundAlignment ? matrixFromRowMajor(groundAlignment) : new Matrix4();
}

/** A stored point in the levelled world. */
export function levelledPoint(point: readonly number[], alignment: Matrix4): Vec3 {
  return new Vector3(point[0], point[1], point[2]).applyMatrix4(alignment).toArray();
}

/**
 * Bounds of the kept points in the levelled world (keep null = every point),
 * or null when none is kept. One pass over the points.
 */
export function levelledBounds(
  positions: Float32Array,
  count: number,
  keep: Uint8Array | null,
  alignment: Matrix4,
): { min: Vec3; max: Vec3 } | null {
  const m = alignment.elements; // column-major
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < count; i++) {
    if (keep && keep[i] === 0) continue;
    const x = positions[3 * i];
    const y = positions[3 * i + 1];
    const z = positions[3 * i + 2];
    if (!Number.isFinite(x + y + z)) continue;
    const lx = m[0] * x + m[4] * y + m[8] * z + m[12];
    const ly = m[1] * x + m[5] * y + m[9] * z + m[13];
    const lz = m[2] * x + m[6] * y + m[10] * z + m[14];
    if (lx < min[0]) min[0] = lx;
    if (ly < min[1]) min[1] = ly;
    if (lz < min[2]) min[2] = lz;
    if (lx > max[0]) max[0] = lx;
    if (ly > max[1]) max[1] = ly;
    if (lz > max[2]) max[2] = lz;
  }
  return min[0] <= max[0] ? { min, max } : null;
}

/**
 * A three.js-space box (flip only, as scene-extent computes it) re-expressed
 * with the alignment applied: its corners levelled, so framing still holds
 * the whole scene once it stands upright.
 */
export function levelBoxThree(box: Box3 | null, groundAlignment: readonly number[] | null): Box3 | null {
  if (!box || !groundAlignment) return box;
  const alignment = alignmentMatrix(groundAlignment);
  const out = new Box3();
  for (let corner = 0; corner < 8; corner++) {
    const three = new Vector3(
      corner & 1 ? box.max.x : box.min.x,
      corner & 2 ? box.max.y : box.min.y,
      corner & 4 ? box.max.z : box.min.z,
    );
    // The flip (x, y, z) -> (x, −y, −z) is its own inverse.
    const stored = new Vector3(three.x, -three.y, -three.z).applyMatrix4(alignment);
    out.expandByPoint(new Vector3(stored.x, -stored.y, -stored.z));
  }
  return out;
}

/** Enough points for stable percentiles without sorting millions of values. */
const PERCENTILE_SAMPLES = 50_000;

/**
 * The 1st and 99th percentile of the kept points on each levelled axis, from
 * an even sample: where the bulk of a reconstruction lies, without the sky and
 * depth-edge outliers that put the raw bounds far outside the view.
 */
export function robustLevelledBounds(
  positions: Float32Array,
  count: number,
  keep: Uint8Array | null,
  alignment: Matrix4,
  quantile = 0.01,
): { min: Vec3; max: Vec3 } | null {
  const m = alignment.elements; // column-major
  const stride = Math.max(1, Math.floor(count / PERCENTILE_SAMPLES));
  const axes = [0, 1, 2].map(() => new Float32Array(Math.ceil(count / stride)));
  let n = 0;
  for (let i = 0; i < count; i += stride) {
    if (keep && keep[i] === 0) continue;
    const x = positions[3 * i];
    const y = positions[3 * i + 1];
    const z = positions[3 * i + 2];
    if (!Number.isFinite(x + y + z)) continue;
    axes[0][n] = m[0] * x + m[4] * y + m[8] * z + m[12];
    axes[1][n] = m[1] * x + m[5] * y + m[9] * z + m[13];
    axes[2][n] = m[2] * x + m[6] * y + m[10] * z + m[14];
    n++;
  }
  if (n === 0) return null;
  const at = (sorted: Float32Array, q: number) =>
    sorted[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))];
  const sorted = axes.map((axis) => axis.subarray(0, n).sort());
  return {
    min: sorted.map((axis) => at(axis, quantile)) as Vec3,
    max: sorted.map((axis) => at(axis, 1 - quantile)) as Vec3,
  };
}
