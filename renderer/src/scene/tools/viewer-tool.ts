// One viewer tool, as the tool manager (ViewerTools.tsx) sees it — the shape
// SuperSplat gives its tools: activate/deactivate when the user picks or leaves
// it, the pointer events of the canvas while it is active, the keys it
// handles, and what it draws (masks over the cloud, content in the 3D scene,
// an overlay over the canvas, its panel). Each tool is one hook in its folder
// (crop/, selection/, measure/, ground/, mark/) over the shared ToolEnv.

import type { Camera } from 'three';
import type { ReactNode } from 'react';
import type { Matrix4 } from 'three';
import type { SceneDetail } from '../../../../main/common/domain';
import type { SceneEdits } from '../editing/use-scene-edits';
import type { BudgetedPointCloud } from '../points/budgeted-point-cloud';
import type { Vec3 } from './levelled-world';
import type { ToolMode } from './tool-modes';
import type { CanvasPointer, CanvasPointerHandlers } from './use-canvas-pointer';

export interface ToolEnv {
  scene: SceneDetail;
  edits: SceneEdits;
  /** The cloud being drawn, once loaded. */
  cloud: BudgetedPointCloud | null;
  /** The edit stack's keep mask over the drawn cloud (null while it does not match the cloud). */
  editsKeep: Uint8Array | null;
  /** Stored (OpenCV) world → levelled world. */
  alignment: Matrix4;
  /** The camera (world matrix up to date) and canvas size now; null before the canvas exists. */
  view(): { camera: Camera; size: { width: number; height: number } } | null;
  /** The stored-world point under the pointer, if the cloud has one there. */
  pickAt(pointer: CanvasPointer): Vec3 | null;
  setMode(mode: ToolMode): void;
}

export interface ViewerTool {
  /** The user picked this tool. */
  activate?(): void;
  /** The user left this tool: it forgets what it was doing. */
  deactivate?(): void;
  /** Canvas pointer events while the tool is active; a press it does not take goes to the camera. */
  pointer?: Partial<CanvasPointerHandlers>;
  /** A key while the tool is active; true when the tool used it. */
  onKey?(event: KeyboardEvent): boolean;
  /** Points the tool hides while active (the crop preview), ANDed with the edits' mask. */
  keep?: Uint8Array | null;
  /** Points the tool lights up (a selection). */
  highlight?: Uint8Array | null;
  /** Drawn inside the Canvas, in stored (OpenCV) coordinates like the cloud. */
  canvasContent?: ReactNode;
  /** Drawn over the canvas (an outline being drawn). */
  overlay?: ReactNode;
  panel?: ReactNode;
}

/** Points set in `mask` (and in `within`, when given). */
export function countSet(mask: Uint8Array | null, within: Uint8Array | null): number {
  if (!mask) return 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] && (!within || within[i])) n++;
  return n;
}

/** Points kept by both masks (either alone when the other is null). */
export function bothMasks(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (!a || !b) return a ?? b;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}
