// The crop tool starts with every handle on screen: when one is off the view
// (or behind the camera), the camera backs away from the box's centre along
// its current direction until all six fit, so the user keeps their viewpoint.

import { PerspectiveCamera, Vector3 } from 'three';
import { threeFromOpenCvPoint } from '../../opencv-axes';
import type { CanvasState } from '../canvas-bridge';
import { CROP_HANDLES, handlePosition, type CropBox } from './crop-box';

interface OrbitLike {
  target: Vector3;
  update(): void;
}

/** Handles must sit this far inside the view's edge (NDC), clear of panels and the toolbar. */
const INSET = 0.8;
const MAX_STEPS = 40;

function allOnScreen(points: Vector3[], camera: PerspectiveCamera): boolean {
  camera.updateMatrixWorld();
  return points.every((point) => {
    if (point.clone().applyMatrix4(camera.matrixWorldInverse).z >= 0) return false;
    const ndc = point.clone().project(camera);
    return Math.abs(ndc.x) <= INSET && Math.abs(ndc.y) <= INSET;
  });
}

/** Moves the camera so that every handle of `box` (levelled world) is on screen; true when it moved. */
export function frameCropHandles(get: CanvasState, box: CropBox): boolean {
  const { camera, invalidate } = get();
  const controls = get().controls as unknown as OrbitLike | null;
  if (!(camera instanceof PerspectiveCamera)) return false;
  const handles = CROP_HANDLES.map((handle) => threeFromOpenCvPoint(handlePosition(box, handle)));
  if (allOnScreen(handles, camera)) return false;
  const centre = threeFromOpenCvPoint(
    box.min.map((v, a) => (v + box.max[a]) / 2) as [number, number, number],
  );
  const direction = camera.position.clone().sub(centre);
  if (direction.lengthSq() < 1e-12) direction.set(0, 0.35, 1);
  direction.normalize();
  const radius = Math.max(...handles.map((h) => h.distanceTo(centre)), 1e-3);
  let distance = Math.max(camera.position.distanceTo(centre), radius * 1.05);
  for (let step = 0; step < MAX_STEPS; step++) {
    camera.position.copy(centre).addScaledVector(direction, distance);
    camera.lookAt(centre);
    if (allOnScreen(handles, camera)) break;
    distance *= 1.15;
  }
  camera.far = Math.max(camera.far, distance + radius * 20);
  camera.updateProjectionMatrix();
  if (controls) {
    controls.target.copy(centre);
    controls.update();
  }
  invalidate();
  return true;
}
