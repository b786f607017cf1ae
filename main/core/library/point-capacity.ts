// How many points one scene may hold on this machine. Above it an import is
// refused before anything is written, with the limit and what to do, instead
// of failing halfway (or, as before chunked storage, "succeeding" with empty
// arrays).

import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import { StudioError } from '../../common/errors';

/**
 * Peak bytes per point while a cloud is imported, stored, reopened and
 * exported: 15 stored (float32 xyz + uint8 rgb) held up to about three times
 * (parsed arrays, the edited/transformed copy an export writes from, the bytes
 * read back), plus bounds and writer buffers.
 */
const PEAK_BYTES_PER_POINT = 48;

/** Share of the machine's memory one cloud may take: the app, the OS and other programs need the rest. */
const MEMORY_SHARE = 0.5;

/**
 * The most points a scene may hold: what half the machine's memory allows,
 * and never more than one Buffer can carry as float32 xyz (4 GiB on Node 20,
 * about 358 M points).
 */
export function maxScenePoints(totalMemoryBytes: number = totalmem()): number {
  const byBuffer = Math.floor(constants.MAX_LENGTH / 12);
  const byMemory = Math.floor((totalMemoryBytes * MEMORY_SHARE) / PEAK_BYTES_PER_POINT);
  return Math.min(byBuffer, byMemory);
}

/** Refuses a cloud larger than maxScenePoints() with the limit and a fix. */
export function assertStorablePointCount(count: number, what = 'The point cloud'): void {
  const limit = maxScenePoints();
  if (count <= limit) return;
  throw new StudioError(
    'insufficient-memory',
    `${what} has ${count.toLocaleString('en-US')} points; this machine can hold at most ${limit.toLocaleString('en-US')} in one scene.`,
    `Thin it to ${limit.toLocaleString('en-US')} points or fewer first (e.g. a voxel downsample in CloudCompare or Open3D), or use a machine with more memory.`,
  );
}
