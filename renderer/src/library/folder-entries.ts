// A folder the user picked (<input webkitdirectory>) or dropped (a directory
// entry of the drop) as its name and its files with paths relative to it.
// Listing stops at a bound: a dropped home folder must not make the page walk
// a million files before saying no.

import type { PickedFolder } from '../../../main/common/api';
import { StudioError } from '../../../main/common/errors';
import { FOLDER_UPLOAD_LIMITS } from '../../../main/common/folder-upload';

/** Entries looked at in one folder before giving up (the upload itself takes far fewer files). */
export const MAX_LISTED_ENTRIES = 5 * FOLDER_UPLOAD_LIMITS.maxFiles;

const tooManyEntries = (name: string): StudioError =>
  new StudioError(
    'invalid-input',
    `The folder "${name}" holds more than ${MAX_LISTED_ENTRIES.toLocaleString('en-US')} files and folders.`,
    'Pick the capture folder itself (the one with sparse/ and images/, or transforms.json), or import it with `g2studio import <folder>`.',
  );

/**
 * Folders of an <input webkitdirectory> pick: every file's webkitRelativePath
 * starts with the picked folder's name ("garden/images/a.jpg").
 */
export function foldersFromPickedFiles(files: readonly File[]): PickedFolder[] {
  const folders = new Map<string, PickedFolder>();
  for (const file of files) {
    const relative = file.webkitRelativePath || file.name;
    const slash = relative.indexOf('/');
    const name = slash < 0 ? '' : relative.slice(0, slash);
    const path = slash < 0 ? relative : relative.slice(slash + 1);
    let folder = folders.get(name);
    if (!folder) {
      folder = { name: name || 'folder', files: [] };
      folders.set(name, folder);
    }
    if (folder.files.length >= MAX_LISTED_ENTRIES) throw tooManyEntries(folder.name);
    folder.files.push({ path, file });
  }
  return [...folders.values()];
}

// The File and Directory Entries API, as far as a drop uses it (lib.dom names differ across versions).
interface DroppedEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
}
interface DroppedFileEntry extends DroppedEntry {
  file(onFile: (file: File) => void, onError: (error: unknown) => void): void;
}
interface DroppedDirectoryEntry extends DroppedEntry {
  createReader(): {
    readEntries(onEntries: (entries: DroppedEntry[]) => void, onError: (error: unknown) => void): void;
  };
}

/** Every file under a dropped directory (hidden folders are not walked), by relative path. */
export async function folderFromDroppedDirectory(directory: DroppedDirectoryEntry): Promise<PickedFolder> {
  const files: PickedFolder['files'] = [];
  let seen = 0;
  const walk = async (dir: DroppedDirectoryEntry, prefix: string): Promise<void> => {
    const reader = dir.createReader();
    // readEntries answers in batches (100 in Chromium) until an empty one.
    for (;;) {
      const batch = await new Promise<DroppedEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (batch.length === 0) return;
      for (const entry of batch) {
        if (++seen > MAX_LISTED_ENTRIES) throw tooManyEntries(directory.name);
        if (entry.name.startsWith('.')) continue;
        const path = `${prefix}${entry.name}`;
        if (entry.isDirectory) await walk(entry as DroppedDirectoryEntry, `${path}/`);
        else if (entry.isFile) {
          const file = await new Promise<File>((resolve, reject) =>
            (entry as DroppedFileEntry).file(resolve, reject),
          );
          files.push({ path, file });
        }
      }
    }
  };
  await walk(directory, '');
  return { name: directory.name, files };
}

/**
 * A drop's plain files and its folders, read while the drop event lasts (the
 * browser empties the DataTransfer afterwards). Web mode only: in Electron a
 * dropped folder is a File whose path the core reads in place.
 */
export function splitDrop(transfer: DataTransfer): { files: File[]; directories: DroppedDirectoryEntry[] } {
  const files: File[] = [];
  const directories: DroppedDirectoryEntry[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry() as DroppedEntry | null;
    if (entry?.isDirectory) directories.push(entry as DroppedDirectoryEntry);
    else {
      const file = item.getAsFile();
      if (file) files.push(file);
    }
  }
  return { files, directories };
}
