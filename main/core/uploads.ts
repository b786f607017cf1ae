// Files handed to the core over the web bridge (drag-and-drop in web mode):
// each upload is written to <library>/uploads/<id>/<name>.partial and renamed
// to its real name only once complete, so only whole files can be imported.
// Imports resolve upload ids to paths here; uploads and exports older than a
// day are removed when a studio opens the library.

import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImportSource } from '../common/api';
import { StudioError } from '../common/errors';
import { newId } from './library/ids';

/** Uploads and exports older than this are removed when a studio opens the library. */
export const TRANSIENT_FILE_MAX_AGE_MS = 24 * 3600 * 1000;

/** File name safe for every OS, keeping the extension readable. */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = basename(name)
    .replace(/[^\p{L}\p{N}._ -]+/gu, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 120);
  return cleaned || fallback;
}

export async function removeOlderThan(dir: string, maxAgeMs: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - maxAgeMs;
  for (const name of names) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    } catch {
      // Another process may be cleaning the same folder.
    }
  }
}

export class Uploads {
  /** `uploadsDir` makes the folder when asked: a library that never receives an upload has none. */
  constructor(private readonly uploadsDir: () => string) {}

  /** The folder an upload lives in (removed once its import has stored the scene). */
  dirOf(uploadId: string): string {
    return join(this.uploadsDir(), uploadId);
  }

  async save(fileName: string, body: Readable): Promise<{ uploadId: string }> {
    const uploadId = newId('upl');
    const dir = this.dirOf(uploadId);
    await mkdir(dir, { recursive: true });
    const name = safeFileName(fileName, 'upload');
    const partial = join(dir, `${name}.partial`);
    try {
      await pipeline(body, createWriteStream(partial));
      // Only a complete upload gets its real name (and so becomes importable).
      await rename(partial, join(dir, name));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new StudioError(
        'unreadable-path',
        `The upload of "${fileName}" did not complete.`,
        'Upload the file again.',
        { cause: error },
      );
    }
    return { uploadId };
  }

  /** Paths and display names of import sources; an unknown upload id is a not-found error. */
  async resolve(sources: ImportSource[]): Promise<{ paths: string[]; displayNames: string[] }> {
    const paths: string[] = [];
    const displayNames: string[] = [];
    for (const source of sources) {
      if (source.kind === 'path') {
        paths.push(source.path);
        displayNames.push(basename(source.path) || source.path);
      } else {
        const upload = await this.pathOf(source.uploadId);
        paths.push(upload.path);
        displayNames.push(upload.fileName);
      }
    }
    return { paths, displayNames };
  }

  private async pathOf(uploadId: string): Promise<{ path: string; fileName: string }> {
    const dir = this.dirOf(uploadId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const fileName = names.find((n) => !n.endsWith('.partial'));
    if (!fileName) {
      throw new StudioError(
        'not-found',
        `There is no upload ${uploadId}.`,
        'Upload the file again, then import it.',
      );
    }
    return { path: join(dir, fileName), fileName };
  }
}
