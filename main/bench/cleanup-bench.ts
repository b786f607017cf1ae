// Cleanup benchmark: statistical outlier scoring (k = 8 nearest neighbours over
// the hand-written voxel-hash grid) and voxel downsampling on 1M and 5M-point
// clouds shaped like reconstructions (surfaces: a floor, two walls and a
// sphere, with 1 % floaters). Figures are points per second of each pass;
// the baseline is the same run's plain pass over the positions (bounds), the
// floor any per-point pass pays.

import { loadavg } from 'node:os';
import type { Edit } from '../common/edit-stack';
import { applyEdits, EditCache, type EditBase } from '../core/cleanup/apply-edits';
import { statisticalOutlierScores } from '../core/cleanup/statistical-outliers';
import { finiteBounds } from '../core/cleanup/spatial-hash';
import { voxelDownsample } from '../core/cleanup/voxel-downsample';
import { sortFloat32 } from '../common/sort-float32';
import type { BenchSection } from './bench-types';

function syntheticScene(count: number): { positions: Float32Array; colors: Uint8Array } {
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  let seed = 1;
  const rand = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  for (let i = 0; i < count; i++) {
    const u = rand() * 4,
      v = rand() * 4,
      kind = i % 100;
    let p: [number, number, number];
    if (kind === 99)
      p = [rand() * 4, rand() * 3 - 2, rand() * 4]; // floater
    else if (kind < 40)
      p = [u, 1, v]; // floor (OpenCV: y down)
    else if (kind < 60)
      p = [u, 1 - v * 0.75, 4]; // back wall
    else if (kind < 75)
      p = [0, 1 - v * 0.75, u]; // side wall
    else {
      const a = rand() * Math.PI * 2,
        b = Math.acos(2 * rand() - 1);
      p = [2 + 0.5 * Math.sin(b) * Math.cos(a), 0.5 + 0.5 * Math.cos(b), 2 + 0.5 * Math.sin(b) * Math.sin(a)];
    }
    positions[3 * i] = p[0] + (rand() - 0.5) * 0.002;
    positions[3 * i + 1] = p[1] + (rand() - 0.5) * 0.002;
    positions[3 * i + 2] = p[2] + (rand() - 0.5) * 0.002;
    colors[3 * i] = (p[0] * 60) & 255;
    colors[3 * i + 1] = (p[1] * 60) & 255;
    colors[3 * i + 2] = (p[2] * 60) & 255;
  }
  return { positions, colors };
}

/**
 * The edit stack as the viewer drives it: a crop, hidden frames and a
 * "remove the worst 5 %" depth-edge filter replayed from scratch (a scene
 * opened cold), against pushing one more edit (a box delete) with the
 * earlier states cached, which is what every click in the viewer costs.
 */
async function editStackFigures(
  positions: Float32Array,
  colors: Uint8Array,
  count: number,
  label: string,
): Promise<BenchSection['figures']> {
  const pointFrames = new Uint16Array(count);
  const depthEdge = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    pointFrames[i] = Math.floor((i / count) * 16);
    depthEdge[i] = (Math.imul(i, 2654435761) >>> 0) / 4294967296;
  }
  const base: EditBase = { cloud: { positions, colors, count }, pointFrames, scores: { depthEdge } };
  const stack: Edit[] = [
    { kind: 'crop', params: { box: { min: [0.2, -2, 0.2], max: [3.8, 2, 3.8] } } },
    { kind: 'hide-frames', params: { frameIndices: [3, 9] } },
    { kind: 'filter', params: { score: 'depthEdge', cut: { mode: 'percentile', removePercent: 5 } } },
  ];
  const next: Edit = {
    kind: 'delete-selection',
    params: { selection: { kind: 'box', box: { min: [1.5, 0, 1.5], max: [2.5, 1.1, 2.5] } } },
  };
  const cold = await seconds(() => applyEdits(base, [...stack, next]));
  // The viewer's filter preview sorts the kept scores once when the filter opens (UI thread).
  const builtIn = await seconds(() => depthEdge.slice().sort());
  const radix = await seconds(() => sortFloat32(depthEdge));
  const cache = new EditCache();
  await applyEdits(base, stack, { cache });
  const warm = await seconds(() => applyEdits(base, [...stack, next], { cache }));
  return [
    {
      label: `edit stack: push a box delete onto crop + hide frames + 5 % filter, ${label} (earlier states cached)`,
      value: warm.s * 1000,
      unit: 'ms',
      baseline: { label: 'replaying the 4 edits from scratch', value: cold.s * 1000 },
      ratio: warm.s / cold.s,
    },
    {
      label: `filter preview: sort the scores once (radix, as the viewer does), ${label}`,
      value: radix.s * 1000,
      unit: 'ms',
      baseline: { label: 'Float32Array.prototype.sort', value: builtIn.s * 1000 },
      ratio: radix.s / builtIn.s,
    },
  ];
}

/** Wall and CPU seconds of `fn` (CPU time is the steadier figure on a shared machine). */
async function seconds<T>(fn: () => T | Promise<T>): Promise<{ s: number; cpuS: number; value: T }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { s: Number(process.hrtime.bigint() - start) / 1e9, cpuS: (used.user + used.system) / 1e6, value };
}

export async function runCleanupBench(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = [];
  const notes: string[] = [];
  for (const count of [1_000_000, 5_000_000]) {
    const label = `${count / 1e6}M points`;
    const { positions, colors } = syntheticScene(count);
    const floor = await seconds(() => finiteBounds(positions, count));
    const floorRate = count / floor.s;
    const sor = await seconds(() => statisticalOutlierScores(positions, count, { neighbours: 8 }));
    let removed = 0,
      floatersRemoved = 0;
    for (let i = 0; i < count; i++) {
      if (sor.value[i] > 2) {
        removed++;
        if (i % 100 === 99) floatersRemoved++;
      }
    }
    const sorRate = count / sor.s;
    figures.push({
      label: `statistical outliers (k=8), ${label}`,
      value: Math.round(sorRate),
      unit: 'points/s',
      baseline: { label: 'one plain pass over the positions (bounds)', value: Math.round(floorRate) },
      ratio: sorRate / floorRate,
    });
    figures.push({
      label: `statistical outliers (k=8), ${label}, wall time`,
      value: +sor.s.toFixed(2),
      unit: 's',
    });
    figures.push({
      label: `statistical outliers (k=8), ${label}, per CPU second`,
      value: Math.round(count / sor.cpuS),
      unit: 'points/s',
    });
    notes.push(
      `${label}: mean+2σ removes ${removed} points, ${floatersRemoved} of the ${Math.floor(count / 100)} floaters.`,
    );
    const voxel = await seconds(() => voxelDownsample({ positions, colors, count }, 0.02));
    const voxelRate = count / voxel.s;
    figures.push({
      label: `voxel downsample (2 cm of a 4 m room), ${label}`,
      value: Math.round(voxelRate),
      unit: 'points/s',
      baseline: { label: 'one plain pass over the positions (bounds)', value: Math.round(floorRate) },
      ratio: voxelRate / floorRate,
    });
    notes.push(`${label}: voxel downsample keeps ${voxel.value.count} points (${voxel.s.toFixed(2)} s).`);
    figures.push(...(await editStackFigures(positions, colors, count, label)));
    notes.push(`load average during ${label}: ${loadavg()[0].toFixed(1)} (shared machine).`);
  }
  return { name: 'cleanup', figures, notes };
}
