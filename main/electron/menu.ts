// A minimal menu: File > Import…, Import folder…, Quit; the standard Edit menu so copy/paste
// work in text fields (macOS needs it).

import { app, dialog, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import { toStudioErrorInfo } from '../common/errors';
import type { StudioService } from '../core/studio-service';
import { pickImportFolder } from './folder-picker';

const PHOTO = /\.(jpe?g|png|webp|heic|heif|bmp|tiff?)$/i;

/** Photos chosen together are one scene; every video or point cloud is a scene of its own. */
export function importGroups(paths: string[]): string[][] {
  const photos = paths.filter((path) => PHOTO.test(path));
  const others = paths.filter((path) => !PHOTO.test(path));
  return [...others.map((path) => [path]), ...(photos.length > 0 ? [photos] : [])];
}

async function importWithDialog(studio: StudioService, window: BrowserWindow | undefined): Promise<void> {
  const options = {
    title: 'Import into G2 Studio',
    properties: ['openFile', 'multiSelections'] as Array<'openFile' | 'multiSelections'>,
    filters: [
      {
        name: 'Videos, photos, point clouds',
        extensions: ['mov', 'mp4', 'm4v', 'mkv', 'webm', 'jpg', 'jpeg', 'png', 'heic', 'ply', 'glb'],
      },
      { name: 'All files', extensions: ['*'] },
    ],
  };
  const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (picked.canceled) return;
  for (const group of importGroups(picked.filePaths)) {
    try {
      await studio.call('scenes.import', { sources: group.map((path) => ({ kind: 'path', path })) });
    } catch (error) {
      const info = toStudioErrorInfo(error);
      dialog.showErrorBox(info.message, info.fix);
    }
  }
}

async function importFolderWithDialog(
  studio: StudioService,
  window: BrowserWindow | undefined,
): Promise<void> {
  try {
    const path = await pickImportFolder(window);
    if (path) await studio.call('scenes.import', { sources: [{ kind: 'path', path }] });
  } catch (error) {
    const info = toStudioErrorInfo(error);
    dialog.showErrorBox(info.message, info.fix);
  }
}

export function installMenu(studio: StudioService, mainWindow: () => BrowserWindow | undefined): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        {
          label: 'Import…',
          accelerator: 'CmdOrCtrl+O',
          click: () => void importWithDialog(studio, mainWindow()),
        },
        {
          // A COLMAP project, a transforms.json capture, or a folder of photos.
          label: 'Import folder…',
          accelerator: 'CmdOrCtrl+Shift+O',
          click: () => void importFolderWithDialog(studio, mainWindow()),
        },
        { type: 'separator' },
        { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => app.quit() },
      ],
    },
    { role: 'editMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
