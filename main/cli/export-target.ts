// Where `g2studio export` writes, checked before any work starts: the format
// and the --out name must agree (a file named .ply holds PLY), and an existing
// file is replaced only with --force. The copy itself goes through a temp file
// and a rename, so --out is never half-written.

import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StudioError } from '../common/errors';
import { ensureDir } from '../base/ensure-dir';
import type { Studio } from '../core/studio';

export const EXPORT_FORMATS = ['ply', 'glb', 'colmap', 'nerfstudio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** Formats written as one file; the others write a folder. */
export type FileExportFormat = Extract<ExportFormat, 'ply' | 'glb'>;

const FILE_FORMAT_BY_EXTENSION: Record<string, FileExportFormat> = { '.ply': 'ply', '.glb': 'glb' };

export function isFileFormat(format: ExportFormat): format is FileExportFormat {
  return format === 'ply' || format === 'glb';
}

/**
 * The format to write: --format when given, else the one --out's extension
 * names. A name that says one format while --format says another is refused,
 * so a file called .ply never holds GLB bytes.
 */
export function exportFormatFor(out: string, format: ExportFormat | undefined): ExportFormat {
  const name = basename(out);
  const extension = extname(name);
  const named = FILE_FORMAT_BY_EXTENSION[extension.toLowerCase()];
  if (format === undefined) {
    if (named) return named;
    throw new StudioError(
      'invalid-input',
      `Cannot tell the export format from "${name}".`,
      'Add --format ply, glb, colmap or nerfstudio (or name the file .ply or .glb).',
    );
  }
  if (!named || named === format) return format;
  if (isFileFormat(format)) {
    throw new StudioError(
      'invalid-input',
      `"${name}" is named as a ${named.toUpperCase()} file, but --format is ${format}.`,
      `Name it ${name.slice(0, -extension.length)}.${format}, or use --format ${named}.`,
    );
  }
  throw new StudioError(
    'invalid-input',
    `--format ${format} writes a folder, but "${name}" is named as a ${named.toUpperCase()} file.`,
    `Give --out a folder name, or use --format ${named}.`,
  );
}

/** Refuse to replace what is at `out` unless the user said --force (files only: folders are never replaced). */
export async function checkExportTarget(out: string, format: ExportFormat, force: boolean): Promise<void> {
  const existing = await stat(out).catch(() => null);
  if (!existing) return;
  if (!isFileFormat(format)) {
    // The core refuses an existing folder too; this says why --force did not help.
    throw new StudioError(
      'invalid-input',
      `${out} already exists${force ? ', and --force does not replace folders' : ''}.`,
      'Choose a new folder name for the export.',
    );
  }
  if (existing.isDirectory()) {
    throw new StudioError(
      'invalid-input',
      `${out} is a folder.`,
      `Give --out a file name ending in .${format}.`,
    );
  }
  if (!force) {
    throw new StudioError(
      'invalid-input',
      `${out} already exists.`,
      'Add --force to replace it, or choose another --out.',
    );
  }
}

/**
 * Copy a blob (an export) to `out`: temp file + rename, so `out` is never
 * half-written. Without `force`, `out` is checked again just before the rename,
 * in case something wrote it while the export ran.
 */
export async function copyBlobTo(
  studio: Studio,
  path: string,
  target: { out: string; format: FileExportFormat; force: boolean },
): Promise<void> {
  const { out, format, force } = target;
  const blob = await studio.openBlob(path);
  if (!blob)
    throw new StudioError(
      'internal',
      'The export file disappeared before it could be copied.',
      'Export again.',
    );
  try {
    ensureDir(dirname(out));
  } catch (error) {
    throw new StudioError(
      'unreadable-path',
      `Cannot create the folder for ${out}.`,
      'Choose an output path you can write to.',
      { cause: error },
    );
  }
  const temp = `${out}.${process.pid}.partial`;
  try {
    const body = Buffer.isBuffer(blob.body) ? Readable.from([blob.body]) : blob.body;
    await pipeline(body, createWriteStream(temp));
    if (!force) await checkExportTarget(out, format, false);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'unreadable-path',
      `Cannot write ${out}: ${error instanceof Error ? error.message : String(error)}.`,
      'Choose an output path you can write to.',
      { cause: error },
    );
  }
}
