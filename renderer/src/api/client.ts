// The renderer's typed client, derived from the API contract: call<N>() takes
// the operation's input type and resolves to its result type, whichever
// transport (Electron IPC or web HTTP/WebSocket) carries it.

import type {
  FolderTransferOptions,
  ImportSource,
  OperationInput,
  OperationName,
  OperationResult,
  PickedFolder,
  StudioTransport,
} from '../../../main/common/api';
import type { StudioEvent } from '../../../main/common/domain';
import { StudioError, toStudioErrorInfo } from '../../../main/common/errors';

export interface StudioClient {
  readonly mode: 'web' | 'electron';
  call<N extends OperationName>(name: N, input: OperationInput<N>): Promise<OperationResult<N>>;
  subscribe(listener: (event: StudioEvent) => void): () => void;
  blobUrl(path: string): string;
  /** Bulk binary data (points, colours) straight into an ArrayBuffer for typed arrays. */
  fetchBlob(path: string, signal?: AbortSignal): Promise<ArrayBuffer>;
  importSourceFor(file: File): Promise<ImportSource>;
  /** A picked or dropped folder (web: uploaded with progress; cancel with options.signal). */
  importSourceForFolder(folder: PickedFolder, options?: FolderTransferOptions): Promise<ImportSource>;
  /** Electron: the system folder picker (null: cancelled); undefined in web mode. */
  readonly pickFolder?: () => Promise<ImportSource | null>;
}

/** Every failure as a StudioError, so views can always show message + fix. */
export function asStudioError(error: unknown): StudioError {
  if (error instanceof StudioError) return error;
  if (error instanceof DOMException && error.name === 'AbortError') {
    return new StudioError('cancelled', 'The request was cancelled.', 'Try again.');
  }
  return StudioError.fromInfo(toStudioErrorInfo(error));
}

export function createStudioClient(transport: StudioTransport, mode: 'web' | 'electron'): StudioClient {
  return {
    mode,
    async call(name, input) {
      try {
        return await transport.call(name, input);
      } catch (error) {
        throw asStudioError(error);
      }
    },
    subscribe: (listener) => transport.subscribe(listener),
    blobUrl: (path) => transport.blobUrl(path),
    async fetchBlob(path, signal) {
      let response: Response;
      try {
        response = await fetch(transport.blobUrl(path), { signal });
      } catch (error) {
        throw asStudioError(error);
      }
      if (!response.ok) {
        // The core's own error (message + fix) when the bridge sent one.
        if (response.headers.get('Content-Type')?.startsWith('application/json')) {
          const body = (await response.json().catch(() => null)) as { error?: unknown } | null;
          if (body?.error) throw StudioError.fromInfo(toStudioErrorInfo(body.error));
        }
        throw new StudioError(
          response.status === 404 ? 'not-found' : 'internal',
          `Could not load ${path} (HTTP ${response.status}).`,
          'Reload the scene; if it persists, re-import it.',
        );
      }
      return response.arrayBuffer();
    },
    async importSourceFor(file) {
      try {
        return await transport.importSourceFor(file);
      } catch (error) {
        throw asStudioError(error);
      }
    },
    async importSourceForFolder(folder, options) {
      try {
        return await transport.importSourceForFolder(folder, options);
      } catch (error) {
        throw asStudioError(error);
      }
    },
    pickFolder: transport.pickFolder
      ? async () => {
          try {
            return (await transport.pickFolder?.()) ?? null;
          } catch (error) {
            throw asStudioError(error);
          }
        }
      : undefined,
  };
}
