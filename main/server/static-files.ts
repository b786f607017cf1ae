// The built renderer (out/renderer) served as static files, with the security
// headers a page of ours needs. Only files under the renderer folder are ever
// read: paths are normalised and checked before touching the disk.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * The page may load scripts and styles only from us, talk only to us (fetch and
 * the events WebSocket), and show images from us or from blob:/data: URLs
 * (textures three.js builds). No plugins, no framing.
 */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Resolve a URL path to a file inside rootDir, or null when it escapes it. */
export function resolveStaticPath(rootDir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const root = resolve(rootDir);
  const full = resolve(join(root, relative));
  if (full !== root && !full.startsWith(root + sep)) return null;
  return full;
}

/**
 * The file's real path when it (after following every symlink) is still inside
 * the renderer folder's real path; null otherwise. A link placed in the folder
 * must not serve the rest of the disk.
 */
async function realPathInside(rootDir: string, file: string): Promise<string | null> {
  const [root, real] = await Promise.all([
    realpath(rootDir).catch(() => null),
    realpath(file).catch(() => null),
  ]);
  if (!root || !real) return null;
  return real === root || real.startsWith(root + sep) ? real : null;
}

/** Serve one file of the renderer; false when there is no such file. */
export async function serveStaticFile(
  rootDir: string,
  urlPath: string,
  res: ServerResponse,
  port: number,
  headOnly: boolean,
): Promise<boolean> {
  const named = resolveStaticPath(rootDir, urlPath);
  if (!named) return false;
  const file = await realPathInside(rootDir, named);
  if (!file) return false;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return false;
  const ext = extname(file).toLowerCase();
  res.statusCode = 200;
  res.setHeader('Content-Type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
  res.setHeader('Content-Length', info.size);
  if (ext === '.html') {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('Cache-Control', 'no-store');
  } else {
    // Vite puts a content hash in asset names, so they never change under one name.
    res.setHeader(
      'Cache-Control',
      urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  }
  if (headOnly) {
    res.end();
    return true;
  }
  await new Promise<void>((done, fail) => {
    const stream = createReadStream(file);
    stream.on('error', fail);
    res.on('close', () => {
      stream.destroy();
      done();
    });
    stream.pipe(res);
  });
  return true;
}
