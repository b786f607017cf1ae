// Statistical outlier removal and voxel downsampling over real point sets:
// the grid neighbour search must equal brute force, floaters above a surface
// must go, and voxel averages must be the plain means.

import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { keepMaskFromScores } from '../../../../main/common/score-mask';
import { buildVoxelGrid, cellSizeForDensity } from '../../../../main/core/cleanup/spatial-hash';
import {
  meanNeighbourDistances,
  statisticalOutlierScores,
} from '../../../../main/core/cleanup/statistical-outliers';
import { compactPointCloud, voxelDownsample } from '../../../../main/core/cleanup/voxel-downsample';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bruteForceMeanKnn(positions: Float32Array, count: number, k: number): Float64Array {
  const out = new Float64Array(count);
  const d = new Float64Array(count - 1);
  for (let i = 0; i < count; i++) {
    let n = 0;
    for (let j = 0; j < count; j++) {
      if (j === i) continue;
      const dx = positions[3 * j] - positions[3 * i],
        dy = positions[3 * j + 1] - positions[3 * i + 1],
        dz = positions[3 * j + 2] - positions[3 * i + 2];
      d[n++] = Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
    d.sort();
    let sum = 0;
    for (let j = 0; j < k; j++) sum += d[j];
    out[i] = sum / k;
  }
  return out;
}

/** A wavy surface of `side`² jittered points plus `floaters` points hovering above it. */
function surfaceWithFloaters(
  side: number,
  floaters: number,
  seed = 1,
): { positions: Float32Array; count: number; surface: number } {
  const rand = random(seed);
  const surface = side * side;
  const count = surface + floaters;
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < surface; i++) {
    const x = (i % side) / side + (rand() - 0.5) * 0.002;
    const z = Math.floor(i / side) / side + (rand() - 0.5) * 0.002;
    positions.set([x, 0.05 * Math.sin(6 * x) * Math.cos(4 * z), z], 3 * i);
  }
  for (let i = surface; i < count; i++) positions.set([rand(), 0.2 + rand() * 0.6, rand()], 3 * i);
  return { positions, count, surface };
}

describe('voxel grid', () => {
  it('indexes every finite point once, cells hold only their own points, negative coordinates included', () => {
    const rand = random(7);
    const count = 5000;
    const positions = new Float32Array(count * 3);
    for (let i = 0; i < count * 3; i++) positions[i] = (rand() - 0.5) * 10;
    positions[0] = NaN;
    const grid = buildVoxelGrid(positions, count, 0.7);
    expect(grid.order.length).toBe(count - 1);
    expect(new Set(grid.order).size).toBe(count - 1);
    for (let c = 0; c < grid.cellCount; c++) {
      for (let j = grid.cellStart[c]; j < grid.cellStart[c + 1]; j++) {
        const p = grid.order[j];
        expect(Math.floor(positions[3 * p] / 0.7)).toBe(grid.cellX[c]);
        expect(Math.floor(positions[3 * p + 2] / 0.7)).toBe(grid.cellZ[c]);
      }
      expect(grid.find(grid.cellX[c], grid.cellY[c], grid.cellZ[c])).toBe(c);
    }
    expect(grid.find(1000, 1000, 1000)).toBe(-1);
  });

  it('picks a cell size that puts about the requested number of surface points in a cell', () => {
    const { positions, surface } = surfaceWithFloaters(300, 0);
    const size = cellSizeForDensity(positions, surface, 8);
    const grid = buildVoxelGrid(positions, surface, size);
    const perCell = surface / grid.cellCount;
    expect(perCell).toBeGreaterThan(4);
    expect(perCell).toBeLessThan(16);
  });
});

describe('statistical outlier removal', () => {
  it('mean k-nearest-neighbour distances equal brute force (clustered and isolated points)', async () => {
    const { positions, count } = surfaceWithFloaters(40, 60, 3);
    for (const k of [1, 8, 16]) {
      const fast = await meanNeighbourDistances(positions, count, { neighbours: k });
      const exact = bruteForceMeanKnn(positions, count, k);
      let worst = 0;
      for (let i = 0; i < count; i++) {
        worst = Math.max(worst, Math.abs(fast[i] - exact[i]) / exact[i]);
      }
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('a point far from a dense cluster scores worst even when its exact search is cut short (budgeted search)', async () => {
    const rand = random(11);
    const count = 30_001;
    const positions = new Float32Array(count * 3);
    for (let i = 0; i < count - 1; i++) positions.set([rand(), rand(), rand() * 0.01], 3 * i);
    positions.set([50, 50, 50], 3 * (count - 1));
    const distances = await meanNeighbourDistances(positions, count, { neighbours: 8 });
    let secondWorst = 0;
    for (let i = 0; i < count - 1; i++) secondWorst = Math.max(secondWorst, distances[i]);
    expect(distances[count - 1]).toBeGreaterThan(10 * secondWorst);
    const scores = await statisticalOutlierScores(positions, count, { neighbours: 8 });
    expect(keepMaskFromScores(scores, { mode: 'threshold', value: 3 })[count - 1]).toBe(0);
  });

  it('a cloud too wide for row-major cell keys falls back to hashing and stays exact', async () => {
    const { positions, count } = surfaceWithFloaters(30, 10, 5);
    positions.set([1e14, -1e14, 1e14], 0);
    expect(buildVoxelGrid(positions, count, 0.01).cellKeys).toBeNull();
    expect(buildVoxelGrid(positions.subarray(3), count - 1, 0.01).cellKeys).not.toBeNull();
    const fast = await meanNeighbourDistances(positions, count, { neighbours: 4 });
    const exact = bruteForceMeanKnn(positions, count, 4);
    for (let i = 1; i < count; i++) expect(Math.abs(fast[i] - exact[i]) / exact[i]).toBeLessThan(1e-5);
    expect(fast[0]).toBeGreaterThan(1e13);
  });

  it('removes floaters above a surface and keeps the surface (mean + 2σ)', async () => {
    const { positions, count, surface } = surfaceWithFloaters(200, 200);
    const scores = await statisticalOutlierScores(positions, count, { neighbours: 8 });
    const keep = keepMaskFromScores(scores, { mode: 'threshold', value: 2 });
    let floatersKept = 0,
      surfaceKept = 0;
    for (let i = 0; i < count; i++) {
      if (i < surface) surfaceKept += keep[i];
      else floatersKept += keep[i];
    }
    expect(floatersKept).toBe(0);
    expect(surfaceKept / surface).toBeGreaterThan(0.98);
  });

  it('percentile mode removes the requested share, worst first; NaN is kept, +Infinity removed', async () => {
    const { positions, count, surface } = surfaceWithFloaters(100, 100);
    const scores = await statisticalOutlierScores(positions, count);
    const keep = keepMaskFromScores(scores, { mode: 'percentile', removePercent: 5 });
    const kept = keep.reduce((a, b) => a + b, 0);
    expect(Math.abs(kept - Math.round(count * 0.95))).toBeLessThanOrEqual(2);
    for (let i = surface; i < count; i++) expect(keep[i]).toBe(0);
    const special = keepMaskFromScores(new Float32Array([NaN, Infinity, 0.5, 3]), {
      mode: 'threshold',
      value: 1,
    });
    expect(Array.from(special)).toEqual([1, 0, 1, 0]);
  });

  it('non-finite points score +Infinity; cancelling rejects with a typed error', async () => {
    const { positions, count } = surfaceWithFloaters(300, 0);
    positions[0] = NaN;
    const scores = await statisticalOutlierScores(positions, count);
    expect(scores[0]).toBe(Infinity);
    const controller = new AbortController();
    const running = statisticalOutlierScores(positions, count, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p > 0) controller.abort();
      },
    });
    await expect(running).rejects.toSatisfy(
      (e: unknown) => e instanceof StudioError && e.code === 'cancelled',
    );
  });
});

describe('voxel downsample', () => {
  it('one point per voxel at the mean position with the mean colour; masked points take no part', () => {
    const positions = new Float32Array([
      0.1, 0.1, 0.1, 0.3, 0.5, 0.9, -0.5, 0.2, 0.2, -0.1, 0.4, 0.4, 5, 5, 5,
    ]);
    const colors = new Uint8Array([0, 0, 0, 100, 200, 255, 10, 10, 10, 20, 30, 41, 9, 9, 9]);
    const cloud = { positions, colors, count: 5 };
    const down = voxelDownsample(cloud, 1, new Uint8Array([1, 1, 1, 1, 0]));
    expect(down.count).toBe(2);
    // Row-major voxel order: the voxel at x = −1 comes first.
    expect(Array.from(down.positions).map((v) => +v.toFixed(5))).toEqual([-0.3, 0.3, 0.3, 0.2, 0.3, 0.5]);
    expect(Array.from(down.colors!)).toEqual([15, 20, 26, 50, 100, 128]);
    const compact = compactPointCloud(cloud, new Uint8Array([0, 0, 0, 0, 1]));
    expect(Array.from(compact.positions)).toEqual([5, 5, 5]);
    expect(Array.from(compact.colors!)).toEqual([9, 9, 9]);
  });
});
