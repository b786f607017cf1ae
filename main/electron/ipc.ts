// The IPC side of the API contract: one handler forwards every operation to
// studio.call (which validates the input against the contract's schema), after
// checking that the message comes from our renderer's main frame.

import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { toStudioErrorInfo } from '../common/errors';
import type { StudioService } from '../core/studio-service';
import { IPC_CALL, IPC_EVENT, type CallEnvelope } from '../../preload/bridge-types';

export function registerStudioIpc(studio: StudioService, isTrustedUrl: (url: string) => boolean): () => void {
  ipcMain.handle(
    IPC_CALL,
    async (event: IpcMainInvokeEvent, name: unknown, input: unknown): Promise<CallEnvelope> => {
      const frame = event.senderFrame;
      // Our window, its top-level frame (no iframe), showing our renderer's URL.
      const fromOurWindow = BrowserWindow.fromWebContents(event.sender) !== null;
      if (!frame || !fromOurWindow || frame.parent !== null || !isTrustedUrl(frame.url)) {
        return {
          ok: false,
          error: {
            code: 'unauthorized',
            message: 'Only the G2 Studio window may call the studio.',
            fix: 'Use the G2 Studio window.',
          },
        };
      }
      try {
        return { ok: true, result: await studio.call(String(name), input) };
      } catch (error) {
        return { ok: false, error: toStudioErrorInfo(error) };
      }
    },
  );

  const unsubscribe = studio.subscribe((studioEvent) => {
    for (const window of BrowserWindow.getAllWindows()) {
      if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, studioEvent);
    }
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(IPC_CALL);
  };
}
