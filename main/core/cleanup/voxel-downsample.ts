// Voxel downsampling: one point per occupied voxel at the mean position of the
// points inside it, with their mean colour. Accumulates in float64 so a voxel of
// thousands of float32 points does not lose precision.

import type { PointCloud } from '../pointcloud/point-cloud';
import { buildVoxelGrid } from './spatial-hash';

/**
 * Downsample `cloud` to voxels of edge `voxelSize` (scene units). Only points
 * with `mask[i]` set take part when a mask is given. Output points are in
 * row-major voxel order (x fastest, then y, then z), so nearby voxels stay
 * nearby in memory.
 */
export function voxelDownsample(cloud: PointCloud, voxelSize: number, mask?: Uint8Array | null): PointCloud {
  let source = cloud;
  if (mask) source = compactPointCloud(cloud, mask);
  const { positions, colors, count } = source;
  const grid = buildVoxelGrid(positions, count, voxelSize);
  const cells = grid.cellCount;
  const sum = new Float64Array(cells * 3);
  const colorSum = colors ? new Float64Array(cells * 3) : null;
  for (let c = 0; c < cells; c++) {
    for (let j = grid.cellStart[c]; j < grid.cellStart[c + 1]; j++) {
      const p = grid.order[j];
      sum[3 * c] += positions[3 * p];
      sum[3 * c + 1] += positions[3 * p + 1];
      sum[3 * c + 2] += positions[3 * p + 2];
      if (colorSum && colors) {
        colorSum[3 * c] += colors[3 * p];
        colorSum[3 * c + 1] += colors[3 * p + 1];
        colorSum[3 * c + 2] += colors[3 * p + 2];
      }
    }
  }
  const outPositions = new Float32Array(cells * 3);
  const outColors = colorSum ? new Uint8Array(cells * 3) : null;
  for (let c = 0; c < cells; c++) {
    const n = grid.cellStart[c + 1] - grid.cellStart[c];
    for (let a = 0; a < 3; a++) {
      outPositions[3 * c + a] = sum[3 * c + a] / n;
      if (outColors && colorSum) outColors[3 * c + a] = Math.round(colorSum[3 * c + a] / n);
    }
  }
  return { positions: outPositions, colors: outColors, count: cells };
}

/** The points of `cloud` whose mask entry is set, as a new cloud (order kept). */
export function compactPointCloud(cloud: PointCloud, mask: Uint8Array): PointCloud {
  let kept = 0;
  for (let i = 0; i < cloud.count; i++) if (mask[i]) kept++;
  if (kept === cloud.count) return cloud;
  const positions = new Float32Array(kept * 3);
  const colors = cloud.colors ? new Uint8Array(kept * 3) : null;
  let out = 0;
  for (let i = 0; i < cloud.count; i++) {
    if (!mask[i]) continue;
    positions[3 * out] = cloud.positions[3 * i];
    positions[3 * out + 1] = cloud.positions[3 * i + 1];
    positions[3 * out + 2] = cloud.positions[3 * i + 2];
    if (colors && cloud.colors) {
      colors[3 * out] = cloud.colors[3 * i];
      colors[3 * out + 1] = cloud.colors[3 * i + 1];
      colors[3 * out + 2] = cloud.colors[3 * i + 2];
    }
    out++;
  }
  return { positions, colors, count: kept };
}
