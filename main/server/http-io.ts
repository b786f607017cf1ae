// Small HTTP helpers for the web-mode bridge: JSON replies, error replies in the
// API's { ok:false, error } shape, bounded body reading, and the HTTP status a
// StudioError code maps to.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StudioError, type StudioErrorCode, type StudioErrorInfo } from '../common/errors';

export function statusForError(code: StudioErrorCode): number {
  switch (code) {
    case 'not-found':
      return 404;
    case 'unauthorized':
      return 401;
    case 'busy':
    case 'cancelled':
    case 'already-installed':
      return 409;
    case 'internal':
      return 500;
    case 'disk-full':
      return 507; // Insufficient Storage: the request was fine, the disk is not

    case 'ffmpeg-missing':
    case 'model-missing':
    case 'insufficient-memory':
      // The request was fine; the studio lacks something the user must install or free.
      return 503;
    default:
      // invalid-input and every "this file is not usable" code: the request's fault.
      return 400;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  info: StudioErrorInfo,
  status = statusForError(info.code),
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { ok: false, error: info });
}

export const unauthorizedInfo: StudioErrorInfo = {
  code: 'unauthorized',
  message: 'This G2 Studio session needs its access token.',
  fix: 'Open the full link printed in the terminal that started the studio (`npm start` or `g2studio serve`); it ends in ?token=….',
};

/**
 * A person who opened the studio's address without its token gets a short
 * page that says where the link is, not a JSON error; scripts still get JSON.
 */
export function sendUnauthorized(req: IncomingMessage, res: ServerResponse): void {
  const accept = String(req.headers.accept ?? '');
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !accept.includes('text/html')) {
    sendError(res, unauthorizedInfo, 401);
    return;
  }
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>G2 Studio needs its link</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36em; margin: 4em auto; line-height: 1.5">
<h1>Open the studio with its link</h1>
<p>For your safety, G2 Studio only answers the browser that opened the link it printed when it started.</p>
<p>Look in the terminal where you ran <code>npm start</code> or <code>g2studio serve</code> for a line like
<code>http://127.0.0.1:PORT/?token=…</code> and open that whole link. If that terminal is closed, start the studio again.</p>
</body></html>
`;
  res.statusCode = 401;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(page));
  res.setHeader('Cache-Control', 'no-store');
  // Inline style only; nothing on this page may load or run anything.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  res.end(req.method === 'HEAD' ? undefined : page);
}

export function tooLarge(what: string, limitBytes: number): StudioError {
  return new StudioError(
    'invalid-input',
    `${what} is larger than the limit of ${formatBytes(limitBytes)}.`,
    'Send a smaller request; large data goes through uploads and blobs, not the JSON API.',
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(0)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(0)} MiB`;
  return `${bytes} bytes`;
}

/** Read a request body up to limitBytes; a larger body is refused without buffering it. */
export async function readBody(req: IncomingMessage, limitBytes: number, what: string): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(what, limitBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limitBytes) throw tooLarge(what, limitBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
