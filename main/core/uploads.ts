// Files handed to the core over the web bridge (drag-and-drop in web mode):
// each upload is written to <library>/uploads/<id>/<name>.partial and renamed
// to its real name only once complete, so only whole files can be imported.
// A folder upload (a picked or dropped folder: a COLMAP project, a
// transforms.json capture, photos) is announced first with every file's
// relative path and size, checked against the limits, then assembled file by
// file under <library>/uploads/<id>/<folder>/; it becomes importable only once
// every announced file has arrived whole. Imports resolve upload ids to paths
// here and release them after the import; a folder upload left idle before
// its import (a closed tab) is removed by a sweep that runs while any is open,
// and every folder upload this process holds when the studio closes. Uploads
// and exports older than a day are removed when a studio opens the library.

import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FolderUploadManifest, FolderUploadStarted, ImportSource } from '../common/api';
import { StudioError } from '../common/errors';
import {
  FOLDER_UPLOAD_LIMITS,
  checkFolderUpload,
  relativePathProblem,
  type FolderUploadLimits,
} from '../common/folder-upload';
import { formatByteSize } from '../common/format-bytes';
import { newId } from './library/ids';
import { ByteLimit } from '../base/byte-limit';

/** A folder upload not yet imported, with no file arriving for this long, is removed. */
export const FOLDER_UPLOAD_IDLE_MS = 15 * 60 * 1000;
/** Folder uploads open at once (each holds its manifest in memory). */
export const MAX_OPEN_FOLDER_UPLOADS = 8;
/** Left free on the disk beyond an upload's own bytes: the import writes the scene too. */
const DISK_HEADROOM_BYTES = 256 * 2 ** 20;

interface FolderSession {
  /** The folder's display name (as picked) and its sanitised name on disk. */
  displayName: string;
  root: string;
  expected: Map<string, number>;
  received: Set<string>;
  receiving: Set<string>;
  lastActivity: number;
  /** Handed to an import (which may wait in the queue): no longer idle, released by the import. */
  claimed: boolean;
}

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

const noFolderUpload = (uploadId: string): StudioError =>
  new StudioError(
    'not-found',
    `There is no folder upload ${uploadId} (it was imported, cancelled, or left idle too long).`,
    'Pick the folder again.',
  );

export class Uploads {
  private readonly folders = new Map<string, FolderSession>();
  /** Runs while folder uploads are open, to remove those left idle (a closed tab). */
  private idleSweep: NodeJS.Timeout | null = null;

  /** `uploadsDir` makes the folder when asked: a library that never receives an upload has none. */
  constructor(
    private readonly uploadsDir: () => string,
    private readonly folderLimits: FolderUploadLimits = FOLDER_UPLOAD_LIMITS,
    /** How long a folder upload may sit without a file arriving, and how often that is checked. */
    private readonly idle = { afterMs: FOLDER_UPLOAD_IDLE_MS, checkEveryMs: 60_000 },
  ) {}

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

  /**
   * Announce a folder upload: its manifest is checked against the limits (and
   * the disk's free space) before any byte arrives; the answer's id is what
   * each file is then sent under.
   */
  async beginFolder(manifest: FolderUploadManifest): Promise<FolderUploadStarted> {
    const totalBytes = checkFolderUpload(manifest.name, manifest.files, this.folderLimits);
    const colon =
      process.platform === 'win32' ? manifest.files.find((file) => file.path.includes(':')) : undefined;
    if (colon) {
      // On NTFS "a:b" names a stream of the file "a", not a file of its own.
      throw new StudioError(
        'invalid-input',
        `The file name "${colon.path.slice(0, 200)}" cannot be stored on Windows (it holds a colon).`,
        'Rename the file, or import the folder by its path.',
      );
    }
    await this.expireIdleFolders();
    const open = [...this.folders.values()].filter((session) => !session.claimed).length;
    if (open >= MAX_OPEN_FOLDER_UPLOADS) {
      throw new StudioError(
        'busy',
        `${open} folder uploads are already under way.`,
        'Wait for them to finish (or cancel one), then import this folder.',
      );
    }
    const uploadsDir = this.uploadsDir();
    const free = await statfs(uploadsDir)
      .then((info) => info.bavail * info.bsize)
      .catch(() => Number.POSITIVE_INFINITY);
    if (free < totalBytes + DISK_HEADROOM_BYTES) {
      throw new StudioError(
        'disk-full',
        `The folder "${manifest.name}" needs ${formatByteSize(totalBytes)}, but the library's disk has ${formatByteSize(free)} free.`,
        'Free some disk space, or import the folder by its path (`g2studio import <folder>`).',
      );
    }
    const uploadId = newId('upl');
    const root = join(this.dirOf(uploadId), safeFileName(manifest.name, 'folder'));
    await mkdir(root, { recursive: true });
    this.folders.set(uploadId, {
      displayName: manifest.name,
      root,
      expected: new Map(manifest.files.map((file) => [file.path, file.bytes])),
      received: new Set(),
      receiving: new Set(),
      lastActivity: Date.now(),
      claimed: false,
    });
    if (!this.idleSweep) {
      // A folder that cannot be removed now is left to the next sweep (and the one at startup).
      this.idleSweep = setInterval(
        () => void this.expireIdleFolders().catch(() => undefined),
        this.idle.checkEveryMs,
      );
      this.idleSweep.unref();
    }
    return { uploadId, fileCount: manifest.files.length, totalBytes };
  }

  /**
   * One announced file of a folder upload: exactly its announced bytes, written
   * beside its final name and renamed once whole. A file not announced, sent
   * twice, or longer or shorter than announced is refused and nothing of it is kept.
   */
  async saveFolderFile(
    uploadId: string,
    path: string,
    body: Readable,
  ): Promise<{ received: number; remaining: number }> {
    const session = this.folders.get(uploadId);
    if (!session) {
      body.resume();
      throw noFolderUpload(uploadId);
    }
    const bytes = session.expected.get(path);
    const refuse = (message: string): never => {
      body.resume();
      throw new StudioError('invalid-input', message, 'Pick the folder again and upload it anew.');
    };
    if (bytes === undefined)
      return refuse(`"${path.slice(0, 200)}" was not announced for this folder upload.`);
    if (session.received.has(path) || session.receiving.has(path)) {
      return refuse(`"${path}" was already sent for this folder upload.`);
    }
    // Announced names passed relativePathProblem; checked again before a path is built from one.
    const target = join(session.root, ...path.split('/'));
    const rel = relative(session.root, target);
    if (relativePathProblem(path) || rel.startsWith('..') || isAbsolute(rel)) {
      return refuse(`"${path}" is not a plain relative name.`);
    }
    session.receiving.add(path);
    session.lastActivity = Date.now();
    const partial = `${target}.partial`;
    const counter = new ByteLimit(
      bytes,
      () =>
        new StudioError(
          'invalid-input',
          `"${path}" is larger than the ${bytes} bytes announced for it.`,
          'Pick the folder again and upload it anew.',
        ),
    );
    try {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(body, counter, createWriteStream(partial));
      if (counter.seen !== bytes) {
        throw new StudioError(
          'invalid-input',
          `"${path}" arrived with ${counter.seen} of its ${bytes} bytes.`,
          'Upload the folder again.',
        );
      }
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true }).catch(() => undefined);
      if (error instanceof StudioError) throw error;
      throw new StudioError(
        'unreadable-path',
        `The upload of "${path}" did not complete.`,
        'Upload the folder again.',
        {
          cause: error,
        },
      );
    } finally {
      session.receiving.delete(path);
      session.lastActivity = Date.now();
    }
    if (!this.folders.has(uploadId)) {
      // Discarded while this file arrived: nothing of it may stay behind.
      await rm(this.dirOf(uploadId), { recursive: true, force: true });
      throw noFolderUpload(uploadId);
    }
    session.received.add(path);
    return { received: session.received.size, remaining: session.expected.size - session.received.size };
  }

  /** Remove an upload (file or folder) and forget it; false when there was none. */
  async release(uploadId: string): Promise<boolean> {
    const known = this.folders.delete(uploadId);
    if (this.folders.size === 0 && this.idleSweep) {
      clearInterval(this.idleSweep);
      this.idleSweep = null;
    }
    const dir = this.dirOf(uploadId);
    const existed =
      known ||
      (await stat(dir).then(
        () => true,
        () => false,
      ));
    await rm(dir, { recursive: true, force: true });
    return existed;
  }

  /** Remove every folder upload this process holds (the studio is closing). */
  async close(): Promise<void> {
    await Promise.all([...this.folders.keys()].map((id) => this.release(id)));
    if (this.idleSweep) clearInterval(this.idleSweep);
    this.idleSweep = null;
  }

  private async expireIdleFolders(): Promise<void> {
    const cutoff = Date.now() - this.idle.afterMs;
    const idle = [...this.folders].filter(
      ([, s]) => !s.claimed && s.receiving.size === 0 && s.lastActivity < cutoff,
    );
    await Promise.all(idle.map(([id]) => this.release(id)));
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
    const folder = this.folders.get(uploadId);
    if (folder) {
      if (folder.claimed) {
        throw new StudioError(
          'busy',
          `The folder "${folder.displayName}" is already being imported.`,
          'Wait for that import in Jobs; pick the folder again for another copy.',
        );
      }
      const missing = folder.expected.size - folder.received.size;
      if (missing > 0) {
        throw new StudioError(
          'invalid-input',
          `The folder "${folder.displayName}" is still missing ${missing} of its ${folder.expected.size} files.`,
          'Wait for the upload to finish, or pick the folder again.',
        );
      }
      folder.claimed = true;
      return { path: folder.root, fileName: folder.displayName };
    }
    const dir = this.dirOf(uploadId);
    const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
    // Only a whole single file; a folder here is a folder upload this process no longer holds.
    const fileName = names.find((n) => n.isFile() && !n.name.endsWith('.partial'))?.name;
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
