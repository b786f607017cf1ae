// Whole-file writes that are atomic: the data goes to a temporary file in the
// same folder, is flushed to disk (fsync), then renamed over the target. A crash
// or a kill at any moment leaves either the old file or the complete new one,
// never half of it; on failure the temporary file is removed.

import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StudioError } from '../../common/errors';
import { removeStaleTemporaries } from '../../base/process-temporaries';

function writeError(path: string, error: unknown): StudioError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new StudioError(
      'disk-full',
      `The disk is full: "${basename(path)}" was not written.`,
      'Free some disk space and export again.',
      {
        cause: error,
      },
    );
  if (
    code === 'ENOENT' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code === 'ENOTDIR' ||
    code === 'EISDIR'
  )
    return new StudioError(
      'unreadable-path',
      `Cannot write "${path}" (${code}).`,
      'Choose a folder you can write to.',
      { cause: error },
    );
  return new StudioError(
    'internal',
    `Writing "${basename(path)}" failed: ${(error as Error).message}`,
    'Try again, or choose another folder.',
    {
      cause: error,
    },
  );
}

/** `.<name>.<pid>.<hex>.tmp`: how writeFileAtomic names its temporary file (the pid says whose it is). */
const TEMPORARY_FILE_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temporary files in `folder` left by writers that were killed
 * (their process is gone); a running writer's file stays. Returns the names removed.
 */
export function removeStaleTemporaryFiles(folder: string): string[] {
  return removeStaleTemporaries(folder, TEMPORARY_FILE_NAME);
}

/** Write `path` atomically with `write`, which receives an open handle; returns the bytes written. */
export async function writeFileAtomic(
  path: string,
  write: (file: FileHandle) => Promise<void>,
): Promise<{ bytes: number }> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let file: FileHandle | null = null;
  try {
    file = await open(temp, 'wx');
    await write(file);
    await file.sync();
    const { size } = await file.stat();
    await file.close();
    file = null;
    await rename(temp, path);
    await syncFolder(dirname(path));
    return { bytes: size };
  } catch (error) {
    await file?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof StudioError) throw error;
    throw writeError(path, error);
  }
}

/** Make the rename itself durable; not possible on every platform (Windows), so best effort. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // directories cannot be opened/fsynced on Windows: the rename is still atomic there
  }
}

/**
 * Collects small writes into one buffer and hands it to the file when full, so
 * writers can emit records one by one without one syscall each.
 */
export class ChunkedFileWriter {
  private buffer: Buffer;
  private used = 0;
  constructor(
    private readonly file: FileHandle,
    chunkBytes = 1 << 20,
  ) {
    this.buffer = Buffer.allocUnsafe(chunkBytes);
  }
  /** Room for `bytes` more bytes, flushing first when needed; returns the offset to write at. */
  async reserve(bytes: number): Promise<{ buffer: Buffer; offset: number }> {
    if (this.used + bytes > this.buffer.length) await this.flush();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
    const offset = this.used;
    this.used += bytes;
    return { buffer: this.buffer, offset };
  }
  /** Return the unused tail of the last reservation (it must not have been flushed since). */
  giveBack(bytes: number): void {
    this.used -= bytes;
  }
  async writeBytes(bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.buffer.length / 2) {
      await this.flush();
      await writeAll(this.file, bytes);
      return;
    }
    const { buffer, offset } = await this.reserve(bytes.length);
    buffer.set(bytes, offset);
  }
  async flush(): Promise<void> {
    if (this.used === 0) return;
    await writeAll(this.file, this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}
