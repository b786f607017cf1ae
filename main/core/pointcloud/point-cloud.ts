// A point cloud in scene units and OpenCV world axes (x right, y down, z
// forward), the way the engine produces it. File formats with other axes
// convert at their reader/writer (see axes.ts).

import { cancelledError, StudioError } from '../../common/errors';

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

/**
 * Most points one cloud can hold: a typed array has at most 2^32 elements here
 * (V8), and positions take three per point. Readers check a file's claimed
 * count against this and against the file's size before allocating anything.
 */
export const MAX_CLOUD_POINTS = Math.floor((2 ** 32 - 1) / 3);

/**
 * Positions (and colours) for `count` points, or a typed error when that many
 * do not fit: never a bare "Invalid typed array length" or "Array buffer
 * allocation failed".
 */
export function allocatePointArrays(
  count: number,
  withColors: boolean,
): { positions: Float32Array; colors: Uint8Array | null } {
  const refuse = (cause?: unknown): StudioError =>
    new StudioError(
      'insufficient-memory',
      `The point cloud has ${count.toLocaleString('en-US')} points, more than fit in memory (at most ${MAX_CLOUD_POINTS.toLocaleString('en-US')} points, and as many as free memory allows).`,
      'Thin the cloud first (for example a voxel downsample in CloudCompare or Open3D) and import it again.',
      { cause },
    );
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_CLOUD_POINTS) throw refuse();
  try {
    return { positions: new Float32Array(count * 3), colors: withColors ? new Uint8Array(count * 3) : null };
  } catch (error) {
    if (error instanceof RangeError) throw refuse(error);
    throw error;
  }
}

/** Points per slice of long in-memory loops, between which they yield to the event loop. */
const POINTS_PER_SLICE = 1 << 20;

/** Lets timers, I/O and other requests run between slices of a long loop. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Removes the points that have a NaN or infinite coordinate, in place (kept
 * points keep their order), and says how many went. glTF forbids such values,
 * PLY readers disagree on them, and no measurement or view can use them, so a
 * stored cloud never holds them and its count is what every export writes.
 */
export async function dropNonFinitePoints(
  cloud: PointCloud,
  opts: PointCloudTaskOptions = {},
): Promise<{ cloud: PointCloud; dropped: number }> {
  const { positions, colors, count } = cloud;
  let kept = 0;
  for (let first = 0; first < count; first += POINTS_PER_SLICE) {
    if (first > 0) {
      await yieldToEventLoop();
      if (opts.signal?.aborted) throw cancelledError('Point cloud import');
    }
    const end = Math.min(count, first + POINTS_PER_SLICE);
    for (let i = first; i < end; i++) {
      const p = i * 3;
      const x = positions[p];
      const y = positions[p + 1];
      const z = positions[p + 2];
      // x - x is 0 for finite x and NaN for NaN/±Infinity.
      if (x - x + (y - y) + (z - z) !== 0) continue;
      if (kept !== i) {
        const q = kept * 3;
        positions[q] = x;
        positions[q + 1] = y;
        positions[q + 2] = z;
        if (colors) {
          colors[q] = colors[p];
          colors[q + 1] = colors[p + 1];
          colors[q + 2] = colors[p + 2];
        }
      }
      kept++;
    }
  }
  if (kept === count) return { cloud, dropped: 0 };
  return {
    cloud: {
      positions: positions.subarray(0, kept * 3),
      colors: colors ? colors.subarray(0, kept * 3) : null,
      count: kept,
    },
    dropped: count - kept,
  };
}
