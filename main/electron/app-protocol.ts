// g2studio://app serves the whole renderer: its built files and, under /blobs/,
// the studio's bulk data (points, colours, thumbnails, exports). One privileged
// origin means the page is never a file:// URL, `'self'` in the CSP covers
// everything it loads, and fetch() of binary data streams without IPC.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { protocol } from 'electron';
import { BLOB_PROTOCOL } from '../common/api';
import { toStudioErrorInfo } from '../common/errors';
import type { StudioService } from '../core/studio-service';
import { statusForError } from '../server/http-io';
import { resolveStaticPath } from '../server/static-files';

export const APP_HOST = 'app';
export const APP_ORIGIN = `${BLOB_PROTOCOL}://${APP_HOST}`;

/** The policy for the packaged renderer: nothing but our own origin. */
export const ELECTRON_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Must run before the app is ready. `standard` gives the scheme normal URL
 * semantics (origins, relative URLs), `secure` makes it a secure context,
 * `supportFetchAPI` lets the page fetch() blobs, `stream` lets large point
 * buffers arrive as streams. No bypassCSP: the page's CSP applies.
 */
export function registerAppScheme(options: { corsForDevServer: boolean }): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: BLOB_PROTOCOL,
      // corsEnabled: only for `electron-vite dev`, whose page (http://localhost) fetches blobs cross-origin.
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        stream: true,
        codeCache: true,
        corsEnabled: options.corsForDevServer,
      },
    },
  ]);
}

type WebBody = ConstructorParameters<typeof Response>[0];

function nodeStreamBody(stream: Readable): WebBody {
  // Node's and the DOM's ReadableStream types differ only nominally.
  return Readable.toWeb(stream) as unknown as WebBody;
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

export function handleAppProtocol(studio: StudioService, rendererDir: string, devServerUrl?: string): void {
  // Packaged: the page is same-origin and needs no CORS. Dev: allow exactly the dev server.
  const corsHeaders: Record<string, string> = devServerUrl
    ? { 'Access-Control-Allow-Origin': new URL(devServerUrl).origin }
    : {};
  protocol.handle(BLOB_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return textResponse(404, 'Unknown host');
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'Method not allowed');
    const common = { 'X-Content-Type-Options': 'nosniff', ...corsHeaders };

    if (url.pathname.startsWith('/blobs/')) {
      let blob: Awaited<ReturnType<StudioService['openBlob']>>;
      try {
        blob = await studio.openBlob(url.pathname);
      } catch (error) {
        // The same body the web bridge sends, so the renderer shows the message and fix.
        const info = toStudioErrorInfo(error);
        return new Response(JSON.stringify({ ok: false, error: info }), {
          status: statusForError(info.code),
          headers: { ...common, 'Content-Type': 'application/json' },
        });
      }
      if (!blob) return textResponse(404, 'Not found');
      const headers: Record<string, string> = {
        ...common,
        'Content-Type': blob.contentType,
        'Content-Length': String(blob.bytes),
      };
      if (blob.fileName)
        headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(blob.fileName)}`;
      const { onDelivered } = blob;
      if (onDelivered && request.method === 'GET' && !Buffer.isBuffer(blob.body)) {
        // 'end': Chromium has read the whole file (a cancelled download never gets there).
        // A copy that cannot be deleted now is left to the export sweep.
        blob.body.once('end', () => void onDelivered().catch(() => undefined));
      }
      const body = Buffer.isBuffer(blob.body) ? new Uint8Array(blob.body) : nodeStreamBody(blob.body);
      return new Response(body, { status: 200, headers });
    }

    const file = resolveStaticPath(rendererDir, url.pathname);
    const info = file ? await stat(file).catch(() => null) : null;
    if (!file || !info?.isFile()) return textResponse(404, 'Not found');
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string> = {
      ...common,
      'Content-Type': type,
      'Content-Length': String(info.size),
    };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = ELECTRON_CSP;
    return new Response(nodeStreamBody(createReadStream(file)), { status: 200, headers });
  });
}
