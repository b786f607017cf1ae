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
