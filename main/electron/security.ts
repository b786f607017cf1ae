// Hardening that applies to every web contents the app creates: no navigation
// away from the app, no new windows, no <webview>, no permission prompts.
// (BrowserWindow options - contextIsolation, sandbox, no nodeIntegration - are
// set where the window is created.)

import { app, session, shell, type WebContents } from 'electron';

export function isAppUrl(url: string, appOrigin: string, devServerUrl: string | undefined): boolean {
  try {
    const origin = new URL(url).origin;
    if (origin === appOrigin) return true;
    return devServerUrl !== undefined && origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}

export function hardenWebContents(appOrigin: string, devServerUrl: string | undefined): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url, appOrigin, devServerUrl)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url, appOrigin, devServerUrl)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Documentation links open in the user's browser, never inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
  });
}
