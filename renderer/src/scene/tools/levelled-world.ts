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
