// A point cloud in scene units and OpenCV world axes (x right, y down, z
// forward), the way the engine produces it. File formats with other axes
// convert at their reader/writer (see axes.ts).

import { cancelledError } from '../../common/errors';

export interface PointCloud {
  /** xyz triples, float32, `count * 3` values. */
  positions: Float32Array;
  /** rgb triples, 0..255, `count * 3` values; null when the cloud has no colours. */
  colors: Uint8Array | null;
  count: number;
}

/** Progress and cancellation for long reads and writes (a 10M-point file takes seconds). */
export interface PointCloudTaskOptions {
  signal?: AbortSignal;
  /** progress 0..1 and the stage name ('read' or 'write'). */
  onProgress?: (progress: number, stage: string) => void;
}

/**
 * A checkpoint for chunked loops: throws StudioError('cancelled') once the signal
 * fired, otherwise reports progress. Call it once per chunk, not per point.
 */
export function taskCheckpoint(
  opts: PointCloudTaskOptions,
  stage: string,
  what: string,
): (progress: number) => void {
  return (progress) => {
    if (opts.signal?.aborted) throw cancelledError(what);
    opts.onProgress?.(Math.min(1, Math.max(0, progress)), stage);
  };
}

/** Axis-aligned bounds, or null for an empty cloud. NaN coordinates are ignored. */
export function pointCloudBounds(
  cloud: PointCloud,
): { min: [number, number, number]; max: [number, number, number] } | null {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const { positions } = cloud;
  for (let i = 0; i < cloud.count * 3; i += 3) {
    for (let axis = 0; axis < 3; axis++) {
      const value = positions[i + axis];
      if (value < min[axis]) min[axis] = value;
      if (value > max[axis]) max[axis] = value;
    }
  }
  return min[0] === Infinity ? null : { min, max };
}
