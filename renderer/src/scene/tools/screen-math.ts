// Between CSS pixels on the canvas, normalised device coordinates and the
// three.js world: what pointer-driven tools need, nothing they draw.

import { Raycaster, Vector2, Vector3, type Camera, type PerspectiveCamera } from 'three';

export interface ViewSize {
  width: number;
  height: number;
}

/** CSS pixels (origin top-left) to NDC (x right, y up, −1..1). */
export function ndcFromCss(x: number, y: number, size: ViewSize): { x: number; y: number } {
  return { x: (x / size.width) * 2 - 1, y: 1 - (y / size.height) * 2 };
}

/** A three.js world point on the canvas in CSS pixels, or null when behind the camera. */
export function cssFromWorld(
  point: Vector3,
  camera: Camera,
  size: ViewSize,
): { x: number; y: number } | null {
  const view = point.clone().applyMatrix4(camera.matrixWorldInverse);
  // Cameras look down −z in three.js: a point with z ≥ 0 in view space is behind.
  if (view.z >= 0) return null;
  const ndc = point.clone().project(camera);
  return { x: ((ndc.x + 1) / 2) * size.width, y: ((1 - ndc.y) / 2) * size.height };
}

/**
 * Where along the line `origin + s · direction` (three.js world) the pointer's
 * ray passes closest: the parameter s, or null when the line runs along the
 * ray (no stable answer, so a drag should not move).
 */
export function lineParameterUnderPointer(
  origin: Vector3,
  direction: Vector3,
  ndc: { x: number; y: number },
  camera: Camera,
): number | null {
  const ray = new Raycaster();
  ray.setFromCamera(new Vector2(ndc.x, ndc.y), camera);
  const u = direction;
  const d = ray.ray.direction;
  const w0 = origin.clone().sub(ray.ray.origin);
  const a = u.dot(u);
  const b = u.dot(d);
  const c = d.dot(d);
  const denom = a * c - b * b;
  if (denom < 1e-6 * a * c) return null;
  return (b * d.dot(w0) - c * u.dot(w0)) / denom;
}

/** The world size of one CSS pixel at `point`'s depth (perspective camera; orthographic by its frustum). */
export function worldPerPixelAt(point: Vector3, camera: Camera, size: ViewSize): number {
  const depth = -point.clone().applyMatrix4(camera.matrixWorldInverse).z;
  if ('isPerspectiveCamera' in camera && (camera as PerspectiveCamera).isPerspectiveCamera) {
    const fov = ((camera as PerspectiveCamera).fov * Math.PI) / 180;
    return (2 * Math.max(depth, 1e-6) * Math.tan(fov / 2)) / size.height;
  }
  const e = camera.projectionMatrix.elements;
  return 2 / e[5] / size.height;
}
