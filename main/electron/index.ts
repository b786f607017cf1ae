// The Electron shell: one window on the studio core. Everything here is
// windows, menus, dialogs, protocol and security; the studio itself is the
// same plain-Node core the CLI and web mode use.

import { join } from 'node:path';
import { app, BrowserWindow, dialog } from 'electron';
import { toStudioErrorInfo } from '../common/errors';
import { resolveLibraryPath } from '../core/settings';
import { createStudio } from '../core/studio';
import type { StudioService } from '../core/studio-service';
import { APP_ORIGIN, handleAppProtocol, registerAppScheme } from './app-protocol';
import { rendererDevServerUrl } from './development-mode';
import { registerStudioIpc } from './ipc';
import { installMenu } from './menu';
import { hardenWebContents, isAppUrl } from './security';

/** Set by `electron-vite dev`: the renderer comes from its dev server (with HMR); never when packaged. */
const devServerUrl = rendererDevServerUrl(app.isPackaged, process.env);
const rendererDir = join(__dirname, '..', 'renderer');

function argValue(flag: string): string | undefined {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

let mainWindow: BrowserWindow | undefined;
let studio: StudioService | undefined;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'G2 Studio',
    backgroundColor: '#111318',
    show: false,
    webPreferences: {
      preload: join(__dirname, '..', 'preload', 'index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // One studio per library: a second launch focuses the first window.
    app.quit();
    return;
  }
  registerAppScheme({ corsForDevServer: devServerUrl !== undefined });
  hardenWebContents(APP_ORIGIN, devServerUrl);
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });

  await app.whenReady();
  try {
    studio = await createStudio({ libraryPath: resolveLibraryPath(argValue('--library')), mode: 'electron' });
  } catch (error) {
    const info = toStudioErrorInfo(error);
    dialog.showErrorBox(`G2 Studio could not open its library: ${info.message}`, info.fix);
    app.exit(1);
    return;
  }
  const openStudio = studio;
  handleAppProtocol(openStudio, rendererDir, devServerUrl);
  registerStudioIpc(openStudio, (url) => isAppUrl(url, APP_ORIGIN, devServerUrl));
  installMenu(openStudio, () => mainWindow);
  mainWindow = createWindow();
  mainWindow.on('closed', () => (mainWindow = undefined));

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Finish or cancel running jobs and close the library before the process ends.
let closing = false;
app.on('will-quit', (event) => {
  if (!studio || closing) return;
  closing = true;
  event.preventDefault();
  const open = studio;
  studio = undefined;
  open.close().finally(() => app.quit());
});

void start();
