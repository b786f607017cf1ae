// The shape of window.g2studio, the preload bridge. Shared (type-only) by the
// preload script that builds it and the renderer transport that uses it.
//
// Calls resolve to an envelope instead of rejecting: an Error thrown across
// contextBridge/IPC keeps only its message, and the renderer needs the
// StudioError's code and fix.

import type { ImportSource } from '../main/common/api';
import type { StudioEvent } from '../main/common/domain';
import type { StudioErrorInfo } from '../main/common/errors';

export type CallEnvelope = { ok: true; result: unknown } | { ok: false; error: StudioErrorInfo };

export interface G2StudioBridge {
  call(name: string, input: unknown): Promise<CallEnvelope>;
  subscribe(listener: (event: StudioEvent) => void): () => void;
  /** A dropped or picked file, as the path the core can read. */
  importSourceFor(file: File): ImportSource;
  /** The system folder picker (main process); the chosen folder's path, null when cancelled. */
  pickFolder(): Promise<{ ok: true; result: string | null } | { ok: false; error: StudioErrorInfo }>;
  /** Origin of blob URLs, e.g. "g2studio://app". */
  blobBase: string;
}

/** IPC channel names, shared by the preload script and the Electron shell. */
export const IPC_CALL = 'studio:call';
export const IPC_EVENT = 'studio:event';
export const IPC_PICK_FOLDER = 'studio:pick-folder';
