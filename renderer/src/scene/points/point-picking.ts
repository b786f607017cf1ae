// Picking and selection geometry on the CPU, in the stored (OpenCV) coordinates
// of the cloud. One model-view-projection matrix per call, then a typed-array
// loop over the points: a click on 10M points costs one pass, no GPU readback.

import { Matrix4, type Camera, type Object3D } from 'three';

export interface PickablePoints {
  /** xyz per point, original order, in the object's own (OpenCV) coordinates. */
  sourcePositions: Float32Array;
  pointCount: number;
  /** 1 = shown, original order; null = every point shown. */
  keep: Uint8Array | null;
  /** The object whose world matrix places the points (includes the OpenCV -> three.js group). */
  matrixWorld: Matrix4;
}

export interface PointPick {
  /** Index of the point in original (stored) order. */
  index: number;
  /** The point in stored (OpenCV) world coordinates. */
  position: [number, number, number];
}

/** three.js stores matrices column-major; the core's selections take row-major 4x4s. */
export function rowMajor(columnMajor: ArrayLike<number>): number[] {
  const out = new Array<number>(16);
  for (let row = 0; row < 4; row++)
    for (let col = 0; col < 4; col++) out[row * 4 + col] = columnMajor[col * 4 + row];
  return out;
}

/** Column-major clip-from-object matrix (three.js layout): projection · view · model. */
export function clipFromObject(
  object: { matrixWorld: Matrix4 },
  camera: Camera,
  out = new Matrix4(),
): Matrix4 {
  camera.updateMatrixWorld();
  return out
    .multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse)
    .multiply(object.matrixWorld);
}

/**
 * The row-major 4x4 that maps a stored (OpenCV) point of `object` to clip
 * space in `camera`'s current view: the `viewProjection` the core's lasso
 * selection (selectInLasso) expects.
 */
export function lassoViewProjection(object: Object3D | { matrixWorld: Matrix4 }, camera: Camera): number[] {
  if ('updateWorldMatrix' in object) object.updateWorldMatrix(true, false);
  return rowMajor(clipFromObject(object, camera).elements);
}

/**
 * The shown point nearest to the camera among those drawn within `radiusPx`
 * of `ndc` (x right, y up, −1..1) on a viewport of `viewport` CSS pixels, or
 * null when there is none.
 */
export function pickPoint(
  cloud: PickablePoints,
  camera: Camera,
  ndc: { x: number; y: number },
  radiusPx: number,
  viewport: { width: number; height: number },
): PointPick | null {
  if ('updateWorldMatrix' in cloud) (cloud as unknown as Object3D).updateWorldMatrix(true, false);
  const m = clipFromObject(cloud, camera).elements;
  const index = pickInClipSpace(
    cloud.sourcePositions,
    cloud.pointCount,
    cloud.keep,
    m,
    ndc,
    radiusPx,
    viewport,
  );
  if (index < 0) return null;
  const p = cloud.sourcePositions;
  return { index, position: [p[3 * index], p[3 * index + 1], p[3 * index + 2]] };
}

/** pickPoint's loop on raw arrays; `m` is column-major clip-from-point. Returns −1 for no point. */
export function pickInClipSpace(
  positions: Float32Array,
  count: number,
  keep: Uint8Array | null,
  m: ArrayLike<number>,
  ndc: { x: number; y: number },
  radiusPx: number,
  viewport: { width: number; height: number },
): number {
  // Compare in pixels: NDC spans 2 units over the viewport's width and height.
  const sx = viewport.width / 2;
  const sy = viewport.height / 2;
  const r2 = radiusPx * radiusPx;
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = Array.from(m);
  let best = -1;
  let bestDepth = Infinity;
  for (let i = 0; i < count; i++) {
    if (keep !== null && keep[i] === 0) continue;
    const x = positions[3 * i];
    const y = positions[3 * i + 1];
    const z = positions[3 * i + 2];
    const w = m3 * x + m7 * y + m11 * z + m15;
    if (!(w > 0)) continue;
    const dx = ((m0 * x + m4 * y + m8 * z + m12) / w - ndc.x) * sx;
    if (dx * dx > r2) continue;
    const dy = ((m1 * x + m5 * y + m9 * z + m13) / w - ndc.y) * sy;
    if (dx * dx + dy * dy > r2) continue;
    // NDC depth grows away from the camera for perspective and orthographic cameras alike.
    const depth = (m2 * x + m6 * y + m10 * z + m14) / w;
    if (depth < -1 || depth > 1 || depth >= bestDepth) continue;
    bestDepth = depth;
    best = i;
  }
  return best;
}
