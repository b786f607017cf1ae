// Folder uploads over the web bridge. A browser cannot hand the core a
// folder's path, so a picked or dropped folder (a COLMAP project, a
// transforms.json capture, a folder of photos) travels as its files, each with
// its path relative to the folder. The renderer checks these rules before it
// sends a byte; the core checks them again when the upload begins (the
// manifest of every file and its size) and while each file arrives (no more
// bytes than declared). Both sides read the rules from here.

import { StudioError } from './errors';
import { formatByteSize } from './format-bytes';

export interface FolderUploadLimits {
  /** Files in one folder upload. */
  maxFiles: number;
  /** Bytes of all its files together. */
  maxBytes: number;
}

/**
 * The studio's bounds for one folder upload: a large capture is a few
 * thousand images and a few GB; a folder far beyond that is better imported
 * by path (CLI, desktop app), which reads it in place.
 */
export const FOLDER_UPLOAD_LIMITS: FolderUploadLimits = {
  maxFiles: 20_000,
  maxBytes: 64 * 2 ** 30,
};

/** A relative path longer than this, or deeper, is refused (no real capture comes close). */
export const MAX_RELATIVE_PATH_CHARS = 1024;
export const MAX_RELATIVE_PATH_DEPTH = 32;
const MAX_SEGMENT_CHARS = 255;

/**
 * Why `path` is not a safe relative path inside an upload folder, or null when
 * it is one: forward slashes only, no empty, "." or ".." segment, not
 * absolute (no leading slash, no drive letter), no backslash, no control
 * character. The core never joins a refused name onto a folder.
 */
export function relativePathProblem(path: string): string | null {
  if (path.length === 0) return 'it is empty';
  if (path.length > MAX_RELATIVE_PATH_CHARS) return `it is longer than ${MAX_RELATIVE_PATH_CHARS} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it holds a control character';
  if (path.startsWith('/')) return 'it is absolute';
  if (path.includes('\\')) return 'it holds a backslash';
  // A drive letter makes a name absolute on Windows (the core refuses any colon there: NTFS streams).
  if (/^[A-Za-z]:/.test(path)) return 'it starts with a drive letter';
  const segments = path.split('/');
  if (segments.length > MAX_RELATIVE_PATH_DEPTH)
    return `it is more than ${MAX_RELATIVE_PATH_DEPTH} folders deep`;
  for (const segment of segments) {
    if (segment === '') return 'it has an empty folder name';
    if (segment === '.' || segment === '..') return 'it leads out of the folder ("." or "..")';
    if (segment.length > MAX_SEGMENT_CHARS)
      return `a name in it is longer than ${MAX_SEGMENT_CHARS} characters`;
  }
  return null;
}

export interface FolderUploadFile {
  /** Relative to the folder, "/"-separated (e.g. "sparse/0/cameras.bin"). */
  path: string;
  bytes: number;
}

const uploadRefused = (message: string, fix: string): StudioError =>
  new StudioError('invalid-input', message, fix);

const IMPORT_BY_PATH =
  'Import the folder by its path instead: `g2studio import <folder>`, or File > Import folder… in the desktop app.';

/**
 * Refuses a folder upload that breaks the limits or names a file unsafely;
 * returns the total bytes. The same check runs in the renderer (before
 * uploading) and in the core (when the upload begins).
 */
export function checkFolderUpload(
  folderName: string,
  files: readonly FolderUploadFile[],
  limits: FolderUploadLimits = FOLDER_UPLOAD_LIMITS,
): number {
  if (files.length === 0) {
    throw uploadRefused(
      `The folder "${folderName}" has no files to import.`,
      'Choose a folder with photos, a COLMAP project (sparse/0 + images/) or a transforms.json capture.',
    );
  }
  if (files.length > limits.maxFiles) {
    throw uploadRefused(
      `The folder "${folderName}" has ${files.length.toLocaleString('en-US')} files to upload; one upload takes at most ${limits.maxFiles.toLocaleString('en-US')}.`,
      IMPORT_BY_PATH,
    );
  }
  let total = 0;
  const seen = new Set<string>();
  for (const file of files) {
    const problem = relativePathProblem(file.path);
    if (problem) {
      throw uploadRefused(
        `The file name "${file.path.slice(0, 200)}" in "${folderName}" cannot be uploaded: ${problem}.`,
        'Upload a folder whose files have plain relative names.',
      );
    }
    if (!Number.isSafeInteger(file.bytes) || file.bytes < 0) {
      throw uploadRefused(`"${file.path}" has no valid size.`, 'Pick the folder again.');
    }
    // Case-insensitive: two names that differ only in case are one file on macOS and Windows.
    const key = file.path.toLowerCase();
    if (seen.has(key)) {
      throw uploadRefused(`"${file.path}" is listed twice in "${folderName}".`, 'Pick the folder again.');
    }
    seen.add(key);
    total += file.bytes;
    if (total > limits.maxBytes) {
      throw uploadRefused(
        `The folder "${folderName}" holds more than ${formatByteSize(limits.maxBytes)} to upload; one upload takes at most that.`,
        IMPORT_BY_PATH,
      );
    }
  }
  // A name that is both a file and a folder ("a" and "a/b") cannot be written.
  for (const file of files) {
    const segments = file.path.toLowerCase().split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      if (seen.has(segments.slice(0, depth).join('/'))) {
        throw uploadRefused(
          `"${segments.slice(0, depth).join('/')}" in "${folderName}" is listed both as a file and as a folder.`,
          'Pick the folder again.',
        );
      }
    }
  }
  return total;
}
