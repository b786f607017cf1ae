// Where the camera goes for a view preset: the whole scene framed from the
// front-above (fit), straight from the top, the front or the side. Directions
// are from the scene's centre to the camera, in three.js axes of the levelled
// world (+y up once a ground plane is set; the first camera looks along −z).

import { Vector3, type Box3 } from 'three';

export type ViewPreset = 'fit' | 'top' | 'front' | 'side';

export const VIEW_PRESETS: ReadonlyArray<{ preset: ViewPreset; label: string; title: string }> = [
  { preset: 'fit', label: 'Fit to scene', title: 'Frame the whole scene' },
  { preset: 'top', label: 'Top', title: 'Look straight down on the scene' },
  { preset: 'front', label: 'Front', title: 'Look at the scene from the front (as the first camera did)' },
  { preset: 'side', label: 'Side', title: 'Look at the scene from its right side' },
];

/** A preset to apply; `n` changes with every click, so the same preset can be asked for again. */
export interface ViewRequest {
  preset: ViewPreset;
  n: number;
}

const DIRECTIONS: Record<ViewPreset, Vector3> = {
  fit: new Vector3(0, 0.35, 1).normalize(),
  // Not exactly vertical: the orbit controls need an up direction off the view axis.
  top: new Vector3(0, 1, 0.001).normalize(),
  front: new Vector3(0, 0, 1),
  side: new Vector3(1, 0, 0),
};

export interface CameraPlacement {
  position: Vector3;
  target: Vector3;
  near: number;
  far: number;
}

/** Camera placement that frames `box` for `preset` with a vertical field of view `fovDeg` and `aspect`. */
export function placementFor(box: Box3, preset: ViewPreset, fovDeg: number, aspect: number): CameraPlacement {
  const target = box.getCenter(new Vector3());
  const radius = Math.max(box.getSize(new Vector3()).length() / 2, 1e-3);
  const halfFov = (fovDeg * Math.PI) / 360;
  // The box's bounding sphere overestimates its extent; tan rather than sin keeps the fit snug.
  const halfFovTight = Math.atan(Math.tan(halfFov) * Math.min(1, aspect));
  const distance = (radius / Math.tan(halfFovTight)) * 1.05;
  return {
    position: target.clone().addScaledVector(DIRECTIONS[preset], distance),
    target,
    near: Math.max(radius * 1e-3, 1e-4),
    far: distance + radius * 20,
  };
}
