// Web mode: the studio served to a browser on this machine. One HTTP server on a
// loopback address carries the same API contract as Electron IPC:
//
//   GET  /                    the built renderer (static files, strict CSP)
//   POST /api/call            { name, input } -> studio.call -> { ok, result | error }
//   WS   /api/events          StudioEvent JSON, one message per event
//   GET  /blobs/…             bulk binary data (points, colours, thumbnails, exports)
//   POST /api/upload?name=…   raw file body -> studio.saveUpload -> { uploadId }
//   POST /api/upload/folder-file?uploadId=…&path=…
//                             one file of a folder upload (uploads.beginFolder announced
//                             it) -> studio.saveFolderUploadFile -> { received, remaining }
//
// Every request needs the per-session token (see session-auth.ts), and a Host
// header naming a loopback address.

import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { UPLOAD_ROUTES } from '../common/api';
import { toStudioErrorInfo, StudioError } from '../common/errors';
import { relativePathProblem } from '../common/folder-upload';
import type { StudioService } from '../core/studio-service';
import { ByteLimit } from '../base/byte-limit';
import { readBody, sendError, sendJson, sendUnauthorized, tooLarge, unauthorizedInfo } from './http-io';
import {
  assertLoopbackBindHost,
  findValidToken,
  isAllowedHost,
  isAllowedOrigin,
  newSessionToken,
  sessionCookie,
} from './session-auth';
import { serveStaticFile } from './static-files';

export interface WebServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only: 127.0.0.1 (default), localhost or ::1. */
  host?: string;
  /** The built renderer; defaults to out/renderer beside the bundle. */
  rendererDir?: string;
  /** Largest /api/call body. */
  maxCallBytes?: number;
  /** Largest upload. */
  maxUploadBytes?: number;
}

export interface WebServerHandle {
  /** URL to open, with the session token: http://127.0.0.1:<port>/?token=… */
  url: string;
  /** The URL without the token. */
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_CALL_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;

/**
 * The renderer build sits in out/renderer. The server code is bundled under
 * out/main, either into an entry (out/main/cli.js) or into a shared chunk
 * (out/main/chunks/…), depending on how the bundler splits it.
 */
function defaultRendererDir(): string {
  const candidates = [join(__dirname, '..', 'renderer'), join(__dirname, '..', '..', 'renderer')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

function setCommonHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Header-safe download name: ASCII fallback plus the RFC 5987 UTF-8 form. */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export async function startWebServer(
  studio: StudioService,
  opts: WebServerOptions = {},
): Promise<WebServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  assertLoopbackBindHost(host);
  const rendererDir = opts.rendererDir ?? defaultRendererDir();
  const maxCallBytes = opts.maxCallBytes ?? DEFAULT_MAX_CALL_BYTES;
  const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const token = newSessionToken();
  let port = 0;

  const handleCall = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const contentType = req.headers['content-type'] ?? '';
    // Requiring JSON makes any cross-site form post fail a CORS preflight as well.
    if (!contentType.startsWith('application/json')) {
      throw new StudioError(
        'invalid-input',
        'API calls must be JSON.',
        'Send Content-Type: application/json.',
      );
    }
    const body = await readBody(req, maxCallBytes, 'The API request');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new StudioError(
        'invalid-input',
        'The API request is not valid JSON.',
        'Send { "name", "input" } as JSON.',
      );
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      typeof (parsed as { name?: unknown }).name !== 'string'
    ) {
      throw new StudioError(
        'invalid-input',
        'The API request needs an operation name.',
        'Send { "name": "scenes.list", "input": {} }.',
      );
    }
    const { name, input } = parsed as { name: string; input?: unknown };
    // studio.call validates the input against the contract's schema.
    const result = await studio.call(name, input ?? {});
    sendJson(res, 200, { ok: true, result });
  };

  const handleUpload = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const name = url.searchParams.get('name')?.trim();
    if (!name || name.length > 255 || /[/\\\0]/.test(name)) {
      throw new StudioError(
        'invalid-input',
        'An upload needs a plain file name (?name=…).',
        'Pass the file name without folders, e.g. /api/upload?name=clip.mov.',
      );
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    const limit = new ByteLimit(maxUploadBytes, () => tooLarge('The upload', maxUploadBytes));
    if (Number.isFinite(declared) && declared > maxUploadBytes) {
      limit.destroy();
      throw new StudioError(
        'invalid-input',
        'The upload is too large.',
        'Import the file from the CLI by path.',
      );
    }
    // A tab closed mid-upload makes the request fail ('aborted'); the core then removes the partial file.
    req.on('error', (error) => limit.destroy(error));
    const saved = await studio.saveUpload(name, req.pipe(limit));
    sendJson(res, 200, { ok: true, result: saved });
  };

  const handleFolderFile = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const uploadId = url.searchParams.get('uploadId') ?? '';
    const path = url.searchParams.get('path') ?? '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(uploadId) || relativePathProblem(path) !== null) {
      throw new StudioError(
        'invalid-input',
        'A folder file needs its upload id and a plain relative path (?uploadId=…&path=…).',
        'Announce the folder with uploads.beginFolder, then send each file under its relative path.',
      );
    }
    const limit = new ByteLimit(maxUploadBytes, () => tooLarge('The upload', maxUploadBytes));
    req.on('error', (error) => limit.destroy(error));
    const saved = await studio.saveFolderUploadFile(uploadId, path, req.pipe(limit));
    sendJson(res, 200, { ok: true, result: saved });
  };

  const handleBlob = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const blob = await studio.openBlob(url.pathname);
    if (!blob) {
      sendError(res, {
        code: 'not-found',
        message: `No data at ${url.pathname}.`,
        fix: 'Reload the scene; it may have been deleted.',
      });
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', blob.contentType);
    res.setHeader('Content-Length', blob.bytes);
    res.setHeader('Cache-Control', 'no-cache');
    if (blob.fileName) res.setHeader('Content-Disposition', contentDisposition(blob.fileName));
    if (req.method === 'HEAD') {
      if (!Buffer.isBuffer(blob.body)) blob.body.destroy();
      res.end();
      return;
    }
    // Both reject when the client goes away mid-body: that download was not delivered.
    if (Buffer.isBuffer(blob.body)) {
      res.end(blob.body);
      if (blob.onDelivered) await finished(res);
    } else {
      await pipeline(blob.body, res);
    }
    // A copy that cannot be deleted now is left to the export sweep.
    await blob.onDelivered?.().catch(() => undefined);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setCommonHeaders(res);
    if (!isAllowedHost(req.headers.host, port)) {
      sendError(
        res,
        {
          code: 'unauthorized',
          message: 'This server only answers requests addressed to 127.0.0.1 or localhost.',
          fix: 'Open the URL that `g2studio serve` printed.',
        },
        421,
      );
      return;
    }
    if (!isAllowedOrigin(req.headers.origin, port)) {
      sendError(res, unauthorizedInfo, 403);
      return;
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const credential = findValidToken(req, url, port, token);
    if (!credential) {
      sendUnauthorized(req, res);
      return;
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    const isBlob = path.startsWith('/blobs/');

    // First visit with the printed URL: keep the token in a cookie, drop it from the address bar.
    if (credential === 'query' && method === 'GET' && !isApi && !isBlob) {
      url.searchParams.delete('token');
      res.statusCode = 303;
      res.setHeader('Set-Cookie', sessionCookie(port, token));
      res.setHeader('Location', url.pathname + url.search);
      res.setHeader('Cache-Control', 'no-store');
      res.end();
      return;
    }

    if (path === '/api/call' && method === 'POST') return handleCall(req, res);
    if (path === UPLOAD_ROUTES.file && method === 'POST') return handleUpload(req, res, url);
    if (path === UPLOAD_ROUTES.folderFile && method === 'POST') return handleFolderFile(req, res, url);
    if (isBlob && (method === 'GET' || method === 'HEAD')) return handleBlob(req, res, url);
    if (!isApi && !isBlob && (method === 'GET' || method === 'HEAD')) {
      if (await serveStaticFile(rendererDir, path, res, port, method === 'HEAD')) return;
      if (path === '/' || path === '/index.html') {
        sendError(
          res,
          {
            code: 'not-found',
            message: `The studio's web page is not built (looked in ${rendererDir}).`,
            fix: 'Run `npm run build`, then start the server again.',
          },
          404,
        );
        return;
      }
    }
    sendError(res, { code: 'not-found', message: `No route for ${method} ${path}.`, fix: 'Check the URL.' });
  };

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => sendError(res, toStudioErrorInfo(error)));
  });
  // Slow-loris and idle sockets: bounded header time, keep-alive reaped.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0; // uploads of large videos may take long

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const refuseUpgrade = (socket: Socket, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/api/events') return refuseUpgrade(socket, 404, 'Not Found');
    if (!isAllowedHost(req.headers.host, port)) return refuseUpgrade(socket, 421, 'Misdirected Request');
    // Browsers send Origin on every WebSocket; another site's page must not listen in.
    if (!isAllowedOrigin(req.headers.origin, port)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (!findValidToken(req, url, port, token)) return refuseUpgrade(socket, 401, 'Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });

  const alive = new WeakSet<WebSocket>();
  sockets.on('connection', (ws: WebSocket) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    // The events socket is one-way: anything a client sends is ignored.
    const unsubscribe = studio.subscribe((event) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
    });
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
  });
  const heartbeat = setInterval(() => {
    for (const ws of sockets.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await new Promise<void>((resolveListen, rejectListen) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      rejectListen(
        new StudioError(
          error.code === 'EADDRINUSE' ? 'busy' : 'internal',
          error.code === 'EADDRINUSE'
            ? `Port ${opts.port} on ${host} is already in use.`
            : `The web server could not start: ${error.message}`,
          error.code === 'EADDRINUSE'
            ? 'Pick another port with --port, or leave it out.'
            : 'Try another port.',
        ),
      );
    };
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  const origin = `http://${urlHost}:${port}`;

  let closed: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: () => {
      closed ??= new Promise<void>((done) => {
        clearInterval(heartbeat);
        for (const ws of sockets.clients) ws.terminate();
        sockets.close();
        server.close(() => done());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
