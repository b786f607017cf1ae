// Web mode: the API over fetch (POST /api/call), events over one WebSocket that
// reconnects by itself, bulk data as same-origin URLs. The session cookie the
// server set on the first page load authenticates all of them.

import {
  UPLOAD_ROUTES,
  type FolderTransferOptions,
  type ImportSource,
  type PickedFolder,
  type StudioTransport,
} from '../../../main/common/api';
import type { StudioEvent } from '../../../main/common/domain';
import { StudioError, isStudioErrorInfo } from '../../../main/common/errors';
import type { CallEnvelope } from '../../../preload/bridge-types';

const serverGone = (): StudioError =>
  new StudioError(
    'internal',
    'The G2 Studio server is not reachable.',
    'Check that `g2studio serve` is still running, then reload the page.',
  );

async function readEnvelope(response: Response): Promise<CallEnvelope> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new StudioError(
      'internal',
      `The server answered HTTP ${response.status} without a readable body.`,
      'Reload the page; restart `g2studio serve` if it persists.',
    );
  }
  if (typeof body === 'object' && body !== null && 'ok' in body) {
    const envelope = body as CallEnvelope;
    if (envelope.ok || isStudioErrorInfo(envelope.error)) return envelope;
  }
  throw new StudioError('internal', 'The server sent an unexpected answer.', 'Reload the page.');
}

async function post(url: string, body: BodyInit, contentType: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  } catch {
    throw serverGone();
  }
  const envelope = await readEnvelope(response);
  if (!envelope.ok) throw StudioError.fromInfo(envelope.error);
  return envelope.result;
}

const uploadCancelled = (): StudioError =>
  new StudioError('cancelled', 'The folder upload was cancelled.', 'Pick the folder again to import it.');

/**
 * One file as a raw POST body. XMLHttpRequest, not fetch: it reports upload
 * progress, so a large points3D.bin does not look stalled.
 */
function sendFile(
  url: string,
  file: File,
  signal: AbortSignal,
  onSent: (bytes: number) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(uploadCancelled());
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    const done = (error: StudioError | null) => {
      signal.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => onSent(event.loaded);
    xhr.onabort = () => done(uploadCancelled());
    xhr.onerror = () => done(serverGone());
    xhr.onload = () => {
      let envelope: CallEnvelope | null = null;
      try {
        envelope = JSON.parse(String(xhr.responseText)) as CallEnvelope;
      } catch {
        // Handled below as an unreadable answer.
      }
      if (envelope?.ok) return done(null);
      if (envelope && !envelope.ok && isStudioErrorInfo(envelope.error))
        return done(StudioError.fromInfo(envelope.error));
      done(new StudioError('internal', `The server answered HTTP ${xhr.status} to an upload.`, 'Try again.'));
    };
    xhr.send(file);
  });
}

/** Files sent at once: a few overlap the per-request latency of many small images. */
const PARALLEL_FILE_UPLOADS = 3;

/**
 * Announce the folder (its bounds are checked before a byte is sent), send
 * its files under their relative paths, and hand back the upload as an import
 * source. A cancel or a failure discards what was sent.
 */
async function uploadFolder(
  call: StudioTransport['call'],
  folder: PickedFolder,
  options: FolderTransferOptions,
): Promise<ImportSource> {
  const signal = options.signal ?? new AbortController().signal;
  const { uploadId, totalBytes } = await call('uploads.beginFolder', {
    name: folder.name,
    files: folder.files.map(({ path, file }) => ({ path, bytes: file.size })),
  });
  // Whole files sent, plus the bytes of the few in flight: progress stays O(1) per event.
  let doneBytes = 0;
  const inFlight = new Map<string, number>();
  const report = () => {
    let sent = doneBytes;
    for (const bytes of inFlight.values()) sent += bytes;
    options.onProgress?.(sent, totalBytes);
  };
  report();
  // One failure stops the other workers too.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  // Cancelled while the folder was being announced.
  if (signal.aborted) stop.abort();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < folder.files.length && !stop.signal.aborted) {
      const { path, file } = folder.files[next++];
      const url = `${UPLOAD_ROUTES.folderFile}?uploadId=${encodeURIComponent(uploadId)}&path=${encodeURIComponent(path)}`;
      await sendFile(url, file, stop.signal, (bytes) => {
        inFlight.set(path, bytes);
        report();
      });
      inFlight.delete(path);
      doneBytes += file.size;
      report();
    }
  };
  try {
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(PARALLEL_FILE_UPLOADS, folder.files.length) }, () =>
        worker().catch((error: unknown) => {
          stop.abort();
          throw error;
        }),
      ),
    );
    if (signal.aborted) throw uploadCancelled();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (error) {
    // What arrived is of no use now; the core removes an idle upload anyway if this call is lost.
    await call('uploads.discard', { uploadId }).catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return { kind: 'upload', uploadId };
}

/** One shared events socket; it reconnects with backoff while anyone listens. */
class EventSocket {
  private readonly listeners = new Set<(event: StudioEvent) => void>();
  private socket: WebSocket | null = null;
  private retryMs = 500;
  private retryTimer: number | undefined;
  private everOpened = false;

  constructor(private readonly url: string) {}

  add(listener: (event: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.socket && this.retryTimer === undefined) this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private emit(event: StudioEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private connect(): void {
    this.retryTimer = undefined;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      // Events may have been missed while disconnected: ask views to refresh.
      if (this.everOpened) this.emit({ type: 'scenes-changed' });
      this.everOpened = true;
    };
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      try {
        this.emit(JSON.parse(message.data) as StudioEvent);
      } catch {
        // A malformed frame is dropped; the next event carries full state anyway.
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.listeners.size === 0) return;
      this.retryTimer = window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  private stop(): void {
    if (this.retryTimer !== undefined) window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}

export function createWebTransport(origin: string = window.location.origin): StudioTransport {
  const wsUrl = origin.replace(/^http/, 'ws') + '/api/events';
  const events = new EventSocket(wsUrl);
  // The server ran the operation named `name` and validated its input, so the result
  // is that operation's result type; JSON cannot carry the type, hence the cast.
  const call: StudioTransport['call'] = (name, input) =>
    post('/api/call', JSON.stringify({ name, input }), 'application/json') as never;
  return {
    call,
    subscribe: (listener) => events.add(listener),
    blobUrl: (path) => path,
    async importSourceFor(file) {
      const result = (await post(
        `${UPLOAD_ROUTES.file}?name=${encodeURIComponent(file.name)}`,
        file,
        'application/octet-stream',
      )) as { uploadId: string };
      return { kind: 'upload', uploadId: result.uploadId };
    },
    importSourceForFolder: (folder, options = {}) => uploadFolder(call, folder, options),
  };
}
