// Geometric evidence from a reconstruction: a synthetic scene with known
// cameras and surfaces, so every distance and depth has an exact answer.

import { describe, expect, it } from 'vitest';
import {
  closerToCamera,
  depthFromCamera,
  distanceBetween,
  mapPixelFromImage,
  scaledByKnown,
  toCamera,
  toWorld,
  type ReconstructionGeometry,
} from '../../../../main/core/geometry/evidence';

const W = 40;
const H = 30;
const F = 50; // focal length in pixels

/** Frame k sees a fronto-parallel wall at depth `depths[k]` (pinhole, principal point at the centre). */
function scene(depths: number[], poses: number[][]): ReconstructionGeometry {
  const localPoints = new Float32Array(depths.length * H * W * 3);
  depths.forEach((z, k) => {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const o = ((k * H + y) * W + x) * 3;
        localPoints[o] = ((x - W / 2) * z) / F;
        localPoints[o + 1] = ((y - H / 2) * z) / F;
        localPoints[o + 2] = z;
      }
    }
  });
  return {
    frameCount: depths.length,
    width: W,
    height: H,
    worldFromCamera: Float32Array.from(poses.flat()),
    localPoints,
  };
}

const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
// Camera 1: turned 90° about y (looking along world −x) and moved to x = 3.
const turned = [0, 0, -1, 3, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1];

describe('spatial evidence from a reconstruction', () => {
  const geometry = scene([2, 5], [identity, turned]);

  it('measures depth along the optical axis and the distance between two marked points', () => {
    const centre = { frame: 0, x: W / 2, y: H / 2 };
    expect(depthFromCamera(geometry, centre).value).toBeCloseTo(2, 5);
    const right = { frame: 0, x: W / 2 + 10, y: H / 2 };
    const d = distanceBetween(geometry, centre, right);
    expect(d.value).toBeCloseTo((10 * 2) / F, 5);
    expect(d).toMatchObject({ computed: true, unit: 'model units' });
  });

  it('combines points of different frames through their poses', () => {
    // Frame 1's centre: 5 units in front of camera 1 = world (3 − 5, 0, 0).
    const p = toWorld(geometry, 1, [0, 0, 5]);
    expect(p[0]).toBeCloseTo(-2, 5);
    expect(toCamera(geometry, 1, p)[2]).toBeCloseTo(5, 5);
    const d = distanceBetween(geometry, { frame: 0, x: W / 2, y: H / 2 }, { frame: 1, x: W / 2, y: H / 2 });
    expect(d.value).toBeCloseTo(Math.hypot(-2 - 0, 0, 0 - 2), 4);
    // Depth of frame 1's point as seen from camera 0: world z = 0 → depth 0.
    expect(depthFromCamera(geometry, { frame: 1, x: W / 2, y: H / 2 }, 0).value).toBeCloseTo(0, 4);
  });

  it('says which point is closer and rescales with a known distance', () => {
    const near = { frame: 0, x: 5, y: 5 };
    const far = { frame: 1, x: 5, y: 5 };
    // Seen from camera 1: its own wall is 5 deep; frame 0's point (world (−0.6, −0.4, 2)) is 3.6 deep.
    const result = closerToCamera(geometry, far, near, 1);
    expect(result.closer).toBe('b');
    expect(result.depthA.value).toBeCloseTo(5, 5);
    expect(result.depthB.value).toBeCloseTo(3.6, 5);
    // "If the red point is at 2.6 m, how deep is the blue one?"
    const red = depthFromCamera(geometry, { frame: 0, x: 20, y: 15 });
    const blue = depthFromCamera(geometry, { frame: 1, x: 20, y: 15 });
    const scaled = scaledByKnown(blue, red, 2.6);
    expect(scaled.value).toBeCloseTo((5 / 2) * 2.6, 5);
    expect(scaled.unit).toBe('metres');
    expect(scaled.method).toContain('scale');
  });

  it('ignores non-finite points under a marker and refuses a marker with none', () => {
    const holes = scene([2], [identity]);
    const o = ((0 * H + 15) * W + 20) * 3;
    holes.localPoints[o + 2] = Number.NaN;
    expect(depthFromCamera(holes, { frame: 0, x: 20, y: 15 }).value).toBeCloseTo(2, 5);
    holes.localPoints.fill(Number.NaN);
    expect(() => depthFromCamera(holes, { frame: 0, x: 20, y: 15 })).toThrow(RangeError);
    expect(() => depthFromCamera(geometry, { frame: 7, x: 1, y: 1 })).toThrow(RangeError);
  });

  it('maps photo pixels onto the point-map grid with pixel centres aligned', () => {
    expect(mapPixelFromImage(0, 0, 1296, 968, 518, 392)).toEqual({ x: 0, y: 0 });
    expect(mapPixelFromImage(1295, 967, 1296, 968, 518, 392)).toEqual({ x: 517, y: 391 });
    expect(mapPixelFromImage(648, 484, 1296, 968, 518, 392)).toEqual({ x: 259, y: 196 });
  });
});
