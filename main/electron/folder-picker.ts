// The system folder picker for imports (File > Import folder…, and the
// library's Import folder… button over IPC): a posed capture (COLMAP project,
// transforms.json) or a folder of photos, handed to the core as its path.
// What comes back is checked to be an absolute path to a folder before the
// core sees it; the core then judges what the folder holds.

import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { dialog, type BrowserWindow } from 'electron';
import { StudioError } from '../common/errors';

/** The folder the user chose, or null when they cancelled. */
export async function pickImportFolder(window: BrowserWindow | undefined): Promise<string | null> {
  const options = {
    title: 'Import a folder into G2 Studio',
    buttonLabel: 'Import',
    message: 'A COLMAP project (sparse/0 + images/), a folder with transforms.json, or a folder of photos',
    properties: ['openDirectory'] as Array<'openDirectory'>,
  };
  const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  const path = picked.canceled ? undefined : picked.filePaths[0];
  if (!path) return null;
  const info = isAbsolute(path) ? await stat(path).catch(() => null) : null;
  if (!info?.isDirectory()) {
    throw new StudioError(
      'unreadable-path',
      `"${path}" is not a folder G2 Studio can open.`,
      'Choose the capture folder again.',
    );
  }
  return path;
}
