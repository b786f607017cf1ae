// Measuring in a reconstruction. The model's world has no unit ("model
// units"); one known distance gives metres per unit, stored per scene
// (SceneSummary.metresPerUnit) and applied everywhere after: displayed
// distances here, exports through world-transform.ts (positions and camera
// translations scale, rotations and intrinsics do not).

import type { GeometricEvidence } from '../../common/domain';
import { StudioError } from '../../common/errors';

export type Vec3 = [number, number, number];

export function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Metres per model unit such that |a − b| is `knownMetres`. */
export function metresPerUnitFromKnownDistance(a: Vec3, b: Vec3, knownMetres: number): number {
  if (![...a, ...b].every(Number.isFinite)) {
    throw new StudioError(
      'invalid-input',
      'A picked point has no position.',
      'Pick two points on the cloud.',
    );
  }
  if (!(knownMetres > 0) || !Number.isFinite(knownMetres)) {
    throw new StudioError(
      'invalid-input',
      `The known distance must be a positive number of metres, not ${knownMetres}.`,
      'Enter the real distance between the two points in metres.',
    );
  }
  const units = distance(a, b);
  if (!(units > 1e-12)) {
    throw new StudioError(
      'invalid-input',
      'The two points are the same point, so they cannot set the scale.',
      'Pick two points some distance apart.',
    );
  }
  return knownMetres / units;
}

/** A distance in model units as the studio shows it: metres once the scene has a scale. */
export function measuredDistance(
  a: Vec3,
  b: Vec3,
  metresPerUnit: number | null,
  label = 'distance',
): GeometricEvidence {
  const units = distance(a, b);
  return metresPerUnit
    ? { label, value: units * metresPerUnit, unit: 'metres' }
    : { label, value: units, unit: 'model units' };
}
