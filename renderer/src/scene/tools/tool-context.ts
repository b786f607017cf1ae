// What every viewer tool reads: the scene, the edit stack, the drawn cloud and
// the canvas (camera and size at the moment a pointer event comes).

import type { Matrix4 } from 'three';
import type { SceneDetail } from '../../../../main/common/domain';
import type { SceneEdits } from '../editing/use-scene-edits';
import type { BudgetedPointCloud } from '../points/budgeted-point-cloud';
import { pickPoint } from '../points/point-picking';
import type { CanvasState } from './canvas-bridge';
import type { Vec3 } from './levelled-world';
import { ndcFromCss } from './screen-math';
import type { CanvasPointer } from './use-canvas-pointer';

export interface ToolContext {
  scene: SceneDetail;
  edits: SceneEdits;
  cloud: BudgetedPointCloud | null;
  canvas: CanvasState | null;
  /** The edits' keep mask over the drawn cloud, or null (all kept / another cloud still loading). */
  editsKeep: Uint8Array | null;
  /** levelledFromStored. */
  alignment: Matrix4;
}

const PICK_RADIUS_PX = 10;

/** The canvas's camera (matrices up to date) and size, now. */
export function viewOf(get: CanvasState) {
  const { camera, size } = get();
  camera.updateMatrixWorld();
  return { camera, size };
}

/** The cloud point under the pointer (stored coordinates), or null. */
export function pickAt(context: ToolContext, pointer: CanvasPointer): Vec3 | null {
  const { canvas, cloud } = context;
  if (!canvas || !cloud) return null;
  const { camera, size } = viewOf(canvas);
  const pick = pickPoint(cloud, camera, ndcFromCss(pointer.x, pointer.y, size), PICK_RADIUS_PX, size);
  return pick ? pick.position : null;
}

/** Points set in `mask` (and in `within` when given). */
export function countSet(mask: Uint8Array | null, within: Uint8Array | null): number {
  if (!mask) return 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] && (!within || within[i])) n++;
  return n;
}
