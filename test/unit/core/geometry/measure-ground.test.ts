// Measuring, scale from a known distance, and levelling a scene on a picked floor.

import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import {
  fitGroundPlane,
  levellingTransform,
  rotationBetween,
  symmetricEigen3,
} from '../../../../main/core/geometry/ground-plane';
import {
  distance,
  measuredDistance,
  metresPerUnitFromKnownDistance,
  type Vec3,
} from '../../../../main/core/geometry/measure';
import { IDENTITY4, transformPose } from '../../../../main/core/geometry/world-transform';

const apply4 = (m: number[], p: Vec3): Vec3 =>
  [0, 1, 2].map((r) => m[r * 4] * p[0] + m[r * 4 + 1] * p[1] + m[r * 4 + 2] * p[2] + m[r * 4 + 3]) as Vec3;
const apply3 = (m: number[], p: Vec3): Vec3 =>
  [0, 1, 2].map((r) => m[r * 3] * p[0] + m[r * 3 + 1] * p[1] + m[r * 3 + 2] * p[2]) as Vec3;

function expectRotation(r: number[]): void {
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = r[i * 3] * r[j * 3] + r[i * 3 + 1] * r[j * 3 + 1] + r[i * 3 + 2] * r[j * 3 + 2];
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
    }
  const det =
    r[0] * (r[4] * r[8] - r[5] * r[7]) -
    r[1] * (r[3] * r[8] - r[5] * r[6]) +
    r[2] * (r[3] * r[7] - r[4] * r[6]);
  expect(det).toBeCloseTo(1, 12);
}

describe('measure and scale', () => {
  it('distance, metres per unit from a known distance, and distances in metres after', () => {
    const a: Vec3 = [1, 2, 3],
      b: Vec3 = [4, 6, 3];
    expect(distance(a, b)).toBe(5);
    const mpu = metresPerUnitFromKnownDistance(a, b, 2.5);
    expect(mpu).toBe(0.5);
    expect(measuredDistance([0, 0, 0], [0, 0, 8], mpu)).toEqual({
      label: 'distance',
      value: 4,
      unit: 'metres',
    });
    expect(measuredDistance([0, 0, 0], [0, 0, 8], null)).toEqual({
      label: 'distance',
      value: 8,
      unit: 'model units',
    });
    const scaled = transformPose([1, 0, 0, 2, 0, 1, 0, 4, 0, 0, 1, 6, 0, 0, 0, 1], {
      transform: IDENTITY4,
      scale: mpu,
    });
    expect(scaled).toEqual([1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1]);
  });

  it('bad scale inputs are typed errors with a fix', () => {
    for (const call of [
      () => metresPerUnitFromKnownDistance([1, 1, 1], [1, 1, 1], 1),
      () => metresPerUnitFromKnownDistance([0, 0, 0], [1, 0, 0], 0),
      () => metresPerUnitFromKnownDistance([0, 0, 0], [1, 0, 0], -2),
      () => metresPerUnitFromKnownDistance([NaN, 0, 0], [1, 0, 0], 1),
    ]) {
      expect(call).toThrow(StudioError);
      try {
        call();
      } catch (e) {
        expect((e as StudioError).code).toBe('invalid-input');
        expect((e as StudioError).fix.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('ground plane', () => {
  it('symmetric 3x3 eigen-decomposition reconstructs the matrix', () => {
    const m = [4, 1, -2, 1, 3, 0.5, -2, 0.5, 5];
    const { values, vectors } = symmetricEigen3(m);
    for (let k = 0; k < 3; k++) {
      const mv = apply3(m, vectors[k]);
      for (let a = 0; a < 3; a++) expect(mv[a]).toBeCloseTo(values[k] * vectors[k][a], 10);
    }
    expect(values[0]).toBeLessThanOrEqual(values[1]);
    expect(values[1]).toBeLessThanOrEqual(values[2]);
  });

  it('fits a tilted floor in the OpenCV world, orients it towards the camera and levels it to y = 0 with +Y up', () => {
    // A floor below a camera at the origin (OpenCV: y down, so the floor is at y ≈ +1.5), tilted.
    const trueNormal: Vec3 = [0.1, -0.98, 0.17];
    const len = Math.hypot(...trueNormal);
    const nrm = trueNormal.map((v) => v / len) as Vec3;
    const onFloor = (u: number, v: number): Vec3 => {
      // Two in-plane directions perpendicular to the normal.
      const e1 = [1, 0, 0].map((x, i) => x - nrm[0] * nrm[i]);
      const l1 = Math.hypot(...e1);
      const a = e1.map((x) => x / l1);
      const b = [nrm[1] * a[2] - nrm[2] * a[1], nrm[2] * a[0] - nrm[0] * a[2], nrm[0] * a[1] - nrm[1] * a[0]];
      return [0, 1, 2].map((i) => [0.2, 1.5, 3][i] + u * a[i] + v * b[i]) as Vec3;
    };
    const picked = [
      onFloor(0, 0),
      onFloor(1.2, 0.3),
      onFloor(-0.7, 1.1),
      onFloor(0.4, -0.9),
      onFloor(-1, -1),
    ];
    const plane = fitGroundPlane(picked, { towards: [0, 0, 0] });
    for (let a = 0; a < 3; a++) expect(plane.normal[a]).toBeCloseTo(nrm[a], 9);
    expect(plane.rmsResidual).toBeLessThan(1e-9);
    // Same orientation from the default OpenCV up hint.
    expect(fitGroundPlane(picked).normal[1]).toBeLessThan(0);

    const levelled = levellingTransform(plane);
    expectRotation([0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => levelled[i]));
    for (const p of picked) expect(apply4(levelled, p)[1]).toBeCloseTo(0, 9);
    const camera = apply4(levelled, [0, 0, 0]);
    expect(camera[1]).toBeGreaterThan(0.9); // the camera ends up above the floor, along +Y
    expect(camera[1]).toBeCloseTo(plane.offset, 9); // at its distance from the plane
    const centroid = apply4(levelled, plane.centroid);
    for (const v of centroid) expect(v).toBeCloseTo(0, 9);
  });

  it('noisy picks give a good plane with an honest residual; collinear or too few points are refused', () => {
    const picks: Vec3[] = [
      [0, 0.01, 0],
      [1, -0.01, 0],
      [0, 0.005, 1],
      [1, 0, 1],
      [0.5, -0.004, 0.5],
    ];
    const plane = fitGroundPlane(picks, { upHint: [0, 1, 0] });
    expect(plane.normal[1]).toBeGreaterThan(0.99);
    expect(plane.rmsResidual).toBeGreaterThan(0.001);
    expect(plane.rmsResidual).toBeLessThan(0.01);
    expect(() => fitGroundPlane(picks.slice(0, 2))).toThrow(StudioError);
    expect(() =>
      fitGroundPlane([
        [0, 0, 0],
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
      ]),
    ).toThrow(/one line/);
  });

  it('rotationBetween maps from onto to, including opposite vectors', () => {
    const cases: Array<[Vec3, Vec3]> = [
      [
        [0, -1, 0],
        [0, 1, 0],
      ],
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      [
        [0.3, 0.4, -0.866],
        [0, 1, 0],
      ],
      [
        [0, 1, 0],
        [0, 1, 0],
      ],
    ];
    for (const [from, to] of cases) {
      const r = rotationBetween(from, to);
      expectRotation(r);
      const l = Math.hypot(...from);
      const mapped = apply3(r, from.map((v) => v / l) as Vec3);
      for (let a = 0; a < 3; a++) expect(mapped[a]).toBeCloseTo(to[a], 12);
    }
  });
});
