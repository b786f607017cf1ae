// Free-disk-space check before a multi-gigabyte download, so it fails at the
// start with a plain message instead of at 95 % with ENOSPC.

import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StudioError } from '../../common/errors';

/** Head-room kept free beyond the download itself (the OS and the library need some). */
export const DISK_HEADROOM_BYTES = 256 * 2 ** 20;

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Bytes available to this user on the file system holding `path` (or its nearest existing parent). */
export async function freeDiskBytes(path: string): Promise<number> {
  let current = path;
  for (;;) {
    try {
      const s = await statfs(current);
      return Number(s.bavail) * Number(s.bsize);
    } catch (error) {
      const parent = dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      current = parent;
    }
  }
}

/** Throws when fewer than `neededBytes` + head-room are free at `path`. */
export async function ensureFreeDiskSpace(
  path: string,
  neededBytes: number,
  purpose = 'the download',
): Promise<void> {
  const free = await freeDiskBytes(path);
  if (free < neededBytes + DISK_HEADROOM_BYTES) {
    throw new StudioError(
      'disk-full',
      `Not enough disk space: ${purpose} needs ${gib(neededBytes)} more but only ${gib(free)} is free at ${path}.`,
      `Free at least ${gib(neededBytes + DISK_HEADROOM_BYTES - free)} or choose a folder on another disk.`,
    );
  }
}
