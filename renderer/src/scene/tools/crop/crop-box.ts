// The crop tool's box: axis-aligned in the levelled world the user sees (the
// stored world when no ground is set), moved face by face with handles. The
// crop edit stores it with boxFromWorld = the ground alignment, so the core
// tests stored points in the same frame the box was drawn in.

import type { Edit } from '../../../../../main/common/edit-stack';
import { selectInBox } from '../../../../../main/common/selection';
import type { Vec3 } from '../levelled-world';

export interface CropBox {
  min: Vec3;
  max: Vec3;
}

export interface CropHandle {
  axis: 0 | 1 | 2;
  side: 'min' | 'max';
}

export const CROP_HANDLES: readonly CropHandle[] = [0, 1, 2].flatMap((axis) =>
  (['min', 'max'] as const).map((side) => ({ axis: axis as 0 | 1 | 2, side })),
);

/** The cloud's bounds grown by a little, so the faces start just outside the outermost points. */
export function initialCropBox(bounds: { min: Vec3; max: Vec3 }): CropBox {
  const size = Math.max(...bounds.max.map((v, a) => v - bounds.min[a]), 1e-6);
  const pad = size * 0.01;
  return {
    min: bounds.min.map((v) => v - pad) as Vec3,
    max: bounds.max.map((v) => v + pad) as Vec3,
  };
}

/**
 * Where the crop starts: the robust bounds (1st-99th percentile) grown by 5 %
 * of their size, but never past the full bounds' own box. A clean cloud gets
 * its whole extent; far outliers stay outside instead of blowing the box up.
 */
export function startingCropBox(
  full: { min: Vec3; max: Vec3 },
  robust: { min: Vec3; max: Vec3 } | null,
): CropBox {
  const whole = initialCropBox(full);
  if (!robust) return whole;
  const size = Math.max(...robust.max.map((v, a) => v - robust.min[a]), 1e-6);
  const margin = size * 0.05;
  return {
    min: whole.min.map((v, a) => Math.max(v, robust.min[a] - margin)) as Vec3,
    max: whole.max.map((v, a) => Math.min(v, robust.max[a] + margin)) as Vec3,
  };
}

/** The box with one axis resized to `size` about its centre (typed dimensions). */
export function resizeAxis(box: CropBox, axis: 0 | 1 | 2, size: number): CropBox {
  if (!(size >= 0) || !Number.isFinite(size)) return box;
  const centre = (box.min[axis] + box.max[axis]) / 2;
  const next: CropBox = { min: [...box.min], max: [...box.max] };
  next.min[axis] = centre - size / 2;
  next.max[axis] = centre + size / 2;
  return next;
}

/**
 * How far a face moves for a drag: where the pointer's ray passes the handle's
 * axis (`exact`), but no further than the drag's length in pixels at the
 * handle's depth times `limit`. An axis seen almost end-on would otherwise
 * throw the face across the scene for a pixel of drag.
 */
export function limitedFaceMove(exact: number, dragPx: number, worldPerPixel: number, limit = 3): number {
  const most = dragPx * worldPerPixel * limit;
  return Math.max(-most, Math.min(most, exact));
}

/** The centre of the handle's face (levelled world). */
export function handlePosition(box: CropBox, handle: CropHandle): Vec3 {
  const centre = box.min.map((v, a) => (v + box.max[a]) / 2) as Vec3;
  centre[handle.axis] = box[handle.side][handle.axis];
  return centre;
}

/** The box with one face moved to `value`, never past the opposite face. */
export function moveHandle(box: CropBox, handle: CropHandle, value: number): CropBox {
  const next: CropBox = { min: [...box.min], max: [...box.max] };
  const a = handle.axis;
  if (handle.side === 'min') next.min[a] = Math.min(value, box.max[a]);
  else next.max[a] = Math.max(value, box.min[a]);
  return next;
}

/** 1 for points inside the box, with the same test (selectInBox) the core applies. */
export function insideCropBox(
  positions: Float32Array,
  count: number,
  box: CropBox,
  groundAlignment: readonly number[] | null,
): Uint8Array {
  return selectInBox(positions, count, {
    min: box.min,
    max: box.max,
    ...(groundAlignment ? { boxFromWorld: [...groundAlignment] } : {}),
  });
}

export function cropEdit(box: CropBox, groundAlignment: readonly number[] | null): Edit {
  return {
    kind: 'crop',
    params: {
      box: {
        min: [...box.min],
        max: [...box.max],
        ...(groundAlignment ? { boxFromWorld: [...groundAlignment] } : {}),
      },
    },
  };
}
