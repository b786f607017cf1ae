// The files the studio writes into <library>/exports for download: one folder
// per export, named by its export id (exp_ + 16 hex digits), holding the one
// file to download. Their lifetime (main/common/export-lifetime.ts): deleted
// once downloaded, or once older than the maximum age. Only folders with an
// export id for a name are ever deleted: anything else in exports/ (a file a
// user put there, a link) was not made by the studio and is left alone.

import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from './ids';

const EXPORT_ID = /^exp_[0-9a-f]{16}$/;

/** Whether `name` is an export id as newExportFolder makes them. */
export function isExportId(name: string): boolean {
  return EXPORT_ID.test(name);
}

/** A new, empty export folder under `exportsDir`, and its id. */
export async function newExportFolder(exportsDir: string): Promise<{ exportId: string; dir: string }> {
  const exportId = newId('exp');
  const dir = join(exportsDir, exportId);
  await mkdir(dir, { recursive: true });
  return { exportId, dir };
}

/**
 * Delete one export (its folder and file). Ids that are not export ids are
 * ignored, so no caller can turn this on another folder. A missing folder is
 * already gone.
 */
export async function removeExport(exportsDir: string, exportId: string): Promise<void> {
  if (!isExportId(exportId)) return;
  await rm(join(exportsDir, exportId), { recursive: true, force: true });
}

/**
 * Delete the exports whose folder was last changed more than `maxAgeMs` ago
 * (a finished export's folder changes last when its file is renamed in).
 * Age, not "all of them", because another studio process (a CLI export, a
 * second window) may be writing or serving a fresh one in the same library.
 * Returns the ids removed.
 */
export async function removeExpiredExports(
  exportsDir: string,
  maxAgeMs: number,
  now: number = Date.now(),
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(exportsDir);
  } catch {
    return []; // no exports folder yet
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isExportId(name)) continue;
    try {
      // lstat: a link named like an export is not a folder the studio made.
      const info = await lstat(join(exportsDir, name));
      if (!info.isDirectory() || now - info.mtimeMs <= maxAgeMs) continue;
      await removeExport(exportsDir, name);
      removed.push(name);
    } catch {
      // Another process may be removing it too; what stays is tried again next sweep.
    }
  }
  return removed;
}
