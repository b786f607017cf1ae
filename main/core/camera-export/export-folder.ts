// An export folder appears whole or not at all: everything is written into a
// hidden staging folder beside the destination, which is renamed into place
// at the end; any failure or a cancel removes the staging folder.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StudioError, cancelledError } from '../../common/errors';
import type { PreparedCamera } from './export-scene';

export interface CameraExportOptions {
  signal?: AbortSignal;
  onProgress?: (progress: number, stage: string) => void;
}

export interface CameraExportResult {
  dir: string;
  /** Files written, relative to `dir`. */
  files: string[];
  cameraCount: number;
  pointCount: number;
  bytes: number;
}

export async function writeExportFolder(
  outDir: string,
  what: string,
  write: (staging: string, files: string[]) => Promise<void>,
  opts: CameraExportOptions,
): Promise<{ files: string[]; bytes: number }> {
  if (await fs.stat(outDir).catch(() => null)) {
    throw new StudioError(
      'invalid-input',
      `${outDir} already exists.`,
      'Choose a new folder name for the export.',
    );
  }
  const parent = dirname(outDir);
  if (!(await fs.stat(parent).catch(() => null))?.isDirectory()) {
    throw new StudioError(
      'unreadable-path',
      `The folder ${parent} does not exist.`,
      'Choose an existing folder to export into.',
    );
  }
  const staging = join(parent, `.${basename(outDir)}.${randomBytes(4).toString('hex')}.partial`);
  const files: string[] = [];
  try {
    await fs.mkdir(staging);
    await write(staging, files);
    if (opts.signal?.aborted) throw cancelledError(what);
    let bytes = 0;
    for (const file of files) bytes += (await fs.stat(join(staging, file))).size;
    await fs.rename(staging, outDir);
    opts.onProgress?.(1, 'done');
    return { files, bytes };
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof StudioError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new StudioError(
        'unreadable-path',
        `Cannot write into ${parent} (${code}).`,
        'Choose a folder you can write to.',
      );
    if (code === 'ENOSPC')
      throw new StudioError(
        'disk-full',
        `The disk is full: ${what} was not written.`,
        'Free some disk space and export again.',
      );
    throw error;
  }
}

/** Writes the frames' images into `<staging>/images/`. */
export async function writeImages(
  staging: string,
  cameras: PreparedCamera[],
  files: string[],
  opts: CameraExportOptions,
  what: string,
): Promise<void> {
  await fs.mkdir(join(staging, 'images'));
  for (const [n, camera] of cameras.entries()) {
    if (opts.signal?.aborted) throw cancelledError(what);
    await fs.writeFile(join(staging, 'images', camera.fileName), camera.image);
    files.push(`images/${camera.fileName}`);
    opts.onProgress?.((0.3 * (n + 1)) / cameras.length, 'images');
  }
}

/** Text lines written in ~1 MiB blocks, checking for cancel between blocks. */
export async function writeLines(
  path: string,
  count: number,
  header: string,
  line: (i: number) => string,
  opts: CameraExportOptions,
  what: string,
  progress: (fraction: number) => void,
): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await handle.write(header);
    const block = 20_000;
    for (let first = 0; first < count; first += block) {
      if (opts.signal?.aborted) throw cancelledError(what);
      const lines: string[] = [];
      for (let i = first; i < Math.min(count, first + block); i++) lines.push(line(i));
      await handle.write(lines.join(''));
      progress(Math.min(1, (first + block) / Math.max(1, count)));
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
