// Web mode: the API over fetch (POST /api/call), events over one WebSocket that
// reconnects by itself, bulk data as same-origin URLs. The session cookie the
// server set on the first page load authenticates all of them.

import type { StudioTransport } from '../../../main/common/api';
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
  return {
    // The server ran the operation named `name` and validated its input, so the result
    // is that operation's result type; JSON cannot carry the type, hence the cast.
    call: (name, input) => post('/api/call', JSON.stringify({ name, input }), 'application/json') as never,
    subscribe: (listener) => events.add(listener),
    blobUrl: (path) => path,
    async importSourceFor(file) {
      const result = (await post(
        `/api/upload?name=${encodeURIComponent(file.name)}`,
        file,
        'application/octet-stream',
      )) as { uploadId: string };
      return { kind: 'upload', uploadId: result.uploadId };
    },
  };
}
