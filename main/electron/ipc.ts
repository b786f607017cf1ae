// The IPC side of the API contract: one handler forwards every operation to
// studio.call (which validates the input against the contract's schema), after
// checking that the message comes from our renderer's main frame; one more
// opens the system folder picker for an import (StudioTransport.pickFolder).

import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { toStudioErrorInfo } from '../common/errors';
import type { StudioService } from '../core/studio-service';
import { IPC_CALL, IPC_EVENT, IPC_PICK_FOLDER, type CallEnvelope } from '../../preload/bridge-types';
import { pickImportFolder } from './folder-picker';

const notOurWindow: CallEnvelope = {
  ok: false,
  error: {
    code: 'unauthorized',
    message: 'Only the G2 Studio window may call the studio.',
    fix: 'Use the G2 Studio window.',
  },
};

export function registerStudioIpc(studio: StudioService, isTrustedUrl: (url: string) => boolean): () => void {
  /** Our window, its top-level frame (no iframe), showing our renderer's URL. */
  const fromOurRenderer = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    const fromOurWindow = BrowserWindow.fromWebContents(event.sender) !== null;
    return !!frame && fromOurWindow && frame.parent === null && isTrustedUrl(frame.url);
  };

  ipcMain.handle(
    IPC_CALL,
    async (event: IpcMainInvokeEvent, name: unknown, input: unknown): Promise<CallEnvelope> => {
      if (!fromOurRenderer(event)) return notOurWindow;
      try {
        return { ok: true, result: await studio.call(String(name), input) };
      } catch (error) {
        return { ok: false, error: toStudioErrorInfo(error) };
      }
    },
  );

  // The folder picker runs here, in the main process: the page never sees the file system.
  ipcMain.handle(IPC_PICK_FOLDER, async (event: IpcMainInvokeEvent): Promise<CallEnvelope> => {
    if (!fromOurRenderer(event)) return notOurWindow;
    try {
      return {
        ok: true,
        result: await pickImportFolder(BrowserWindow.fromWebContents(event.sender) ?? undefined),
      };
    } catch (error) {
      return { ok: false, error: toStudioErrorInfo(error) };
    }
  });

  const unsubscribe = studio.subscribe((studioEvent) => {
    for (const window of BrowserWindow.getAllWindows()) {
      if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, studioEvent);
    }
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(IPC_CALL);
    ipcMain.removeHandler(IPC_PICK_FOLDER);
  };
}
