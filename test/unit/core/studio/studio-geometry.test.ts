// The geometry the studio derives from a reconstruction: intrinsics fitted to
// local point maps, the stored record, and marker evidence.

import { describe, expect, it } from 'vitest';
import type { ReconstructionOutput } from '../../../../main/model/engine/engine-types';
import { estimateIntrinsics } from '../../../../main/core/geometry/intrinsics';
import { markerEvidence } from '../../../../main/core/geometry/marker-evidence';
import { finiteWorldPoints, reconstructionRecord } from '../../../../main/core/library/reconstruction-record';

/** A pinhole camera's point map of a tilted plane: pixel (col,row) -> point at depth z(col,row). */
function pinholePointMap(width: number, height: number, fx: number, fy: number): Float32Array {
  const map = new Float32Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const z = 2 + 0.01 * col + 0.02 * row;
      const at = 3 * (row * width + col);
      map[at] = ((col + 0.5 - width / 2) / fx) * z;
      map[at + 1] = ((row + 0.5 - height / 2) / fy) * z;
      map[at + 2] = z;
    }
  }
  return map;
}

const identityPose = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

describe('reconstruction geometry', () => {
  it('recovers fx, fy of a pinhole camera from its local point map', () => {
    const map = pinholePointMap(518, 294, 400, 380);
    const k = estimateIntrinsics(map, 518, 294);
    expect(k?.fx).toBeCloseTo(400, 1);
    expect(k?.fy).toBeCloseTo(380, 1);
    expect(k).toMatchObject({ cx: 259, cy: 147, width: 518, height: 294 });
  });

  it('ignores points behind the camera and non-finite values', () => {
    const map = pinholePointMap(64, 48, 50, 50);
    for (let i = 0; i < 200; i++) map[3 * i + 2] = i % 2 ? Number.NaN : -1;
    expect(estimateIntrinsics(map, 64, 48)?.fx).toBeCloseTo(50, 2);
    expect(estimateIntrinsics(new Float32Array(64 * 48 * 3).fill(Number.NaN), 64, 48)).toBeNull();
  });

  it('keeps only finite world points with their colours', () => {
    const world = new Float32Array([0, 0, 1, Number.NaN, 0, 1, 1, 2, 3, 4, Infinity, 5]);
    const colors = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const kept = finiteWorldPoints(world, colors);
    expect(kept.count).toBe(2);
    expect(Array.from(kept.positions)).toEqual([0, 0, 1, 1, 2, 3]);
    expect(Array.from(kept.colors ?? [])).toEqual([1, 2, 3, 7, 8, 9]);
  });

  it('turns an engine output into cameras with poses and fitted intrinsics', () => {
    const [w, h] = [32, 24];
    const map0 = pinholePointMap(w, h, 30, 30);
    const map1 = pinholePointMap(w, h, 45, 45);
    const local = new Float32Array([...map0, ...map1]);
    const pose1 = [1, 0, 0, 0.5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const output: ReconstructionOutput = {
      frameCount: 2,
      width: w,
      height: h,
      worldFromCamera: new Float32Array([...identityPose, ...pose1]),
      localPoints: local,
      worldPoints: local,
      globalPoints: local,
      colors: new Uint8Array(local.length).fill(7),
      executionProvider: 'cpu',
      precision: 'fp32',
      timingsMs: { total: 1 },
    };
    const record = reconstructionRecord(
      output,
      [
        { frameId: 'frm_a', index: 0 },
        { frameId: 'frm_b', index: 3 },
      ],
      { modelId: 'g2vlm-test' },
    );
    expect(record.cameras.map((c) => c.frameIndex)).toEqual([0, 3]);
    expect(record.cameras[1].worldFromCamera).toEqual(pose1);
    expect(record.cameras[0].intrinsics?.fx).toBeCloseTo(30, 2);
    expect(record.cameras[1].intrinsics?.fy).toBeCloseTo(45, 2);
    expect(record.points.count).toBe(2 * w * h);
    expect(() => reconstructionRecord(output, [{ frameId: 'frm_a', index: 0 }], { modelId: 'x' })).toThrow(
      /2 frames for 1 inputs/,
    );
  });

  it('measures depth and distance between marked points, in metres once the scene has a scale', () => {
    const [w, h] = [40, 30];
    const map = pinholePointMap(w, h, 40, 40);
    const geometry = {
      frameIndices: [0],
      frameSizes: [{ width: 400, height: 300 }],
      mapWidth: w,
      mapHeight: h,
      worldFromCamera: new Float32Array(identityPose),
      localPointMaps: map,
    };
    const markers = [
      { color: 'red' as const, frameIndex: 0, x: 5, y: 5 }, // map pixel (0, 0)
      { color: 'blue' as const, frameIndex: 0, x: 395, y: 5 }, // map pixel (39, 0)
    ];
    const evidence = markerEvidence(geometry, markers, null);
    const at = (col: number, row: number) =>
      Array.from(map.subarray(3 * (row * w + col), 3 * (row * w + col) + 3));
    const [a, b] = [at(0, 0), at(39, 0)];
    expect(evidence[0]).toMatchObject({ value: a[2], unit: 'model units' });
    expect(evidence[2].label).toMatch(/red and blue/);
    expect(evidence[2].value).toBeCloseTo(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]), 5);
    const metric = markerEvidence(geometry, markers, 0.5);
    expect(metric[2]).toMatchObject({ unit: 'metres' });
    expect(metric[2].value).toBeCloseTo(evidence[2].value * 0.5, 6);
    // A marker on a frame the reconstruction did not use gives no value.
    expect(markerEvidence(geometry, [{ color: 'green', frameIndex: 5, x: 1, y: 1 }], null)).toEqual([]);
  });
});
