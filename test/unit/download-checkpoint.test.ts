// The checkpoint downloader against a real HTTP server on 127.0.0.1 that
// serves the golden tiny checkpoint the way the Hugging Face hub does: a
// revision listing with LFS sha256 and git blob ids, resolve URLs that redirect
// LFS files to a "CDN" with X-Linked-Etag / X-Repo-Commit, range requests. The
// server can drop a connection mid-file, corrupt a file, or lie in its headers.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../main/common/errors';
import { downloadCheckpoint, type DownloadProgress } from '../../main/model/download/checkpoint-download';
import { ensureFreeDiskSpace, freeDiskBytes } from '../../main/model/download/disk-space';
import { hubAccess } from '../../main/model/download/hub-endpoint';
import { importCheckpointFolder } from '../../main/model/download/import-checkpoint';
import { SHARED_DIR } from '../shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const REPO = 'acme/tiny-g2';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';

interface RepoFile {
  path: string;
  content: Buffer;
  lfs: boolean;
}

const files: RepoFile[] = [
  { path: 'model.safetensors', content: readFileSync(join(GOLDEN, 'model.safetensors')), lfs: true },
  ...['text_config.json', 'vit_config.json', 'dino_config.json', 'g2vlm_tiny.json'].map((path) => ({
    path,
    content: readFileSync(join(GOLDEN, path)),
    lfs: false,
  })),
  { path: 'vocab.json', content: Buffer.from('{"hello": 0, "world": 1}'), lfs: false },
  { path: 'merges.txt', content: Buffer.from('#version: 0.2\nh e\n'), lfs: false },
  { path: 'README.md', content: Buffer.from('# tiny\n'), lfs: false },
];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitBlob = (b: Buffer): string =>
  createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

interface HubBehaviour {
  /** Paths whose next CDN transfer is cut after 40 % of the bytes (then cleared). */
  dropOnce: Set<string>;
  /** Paths served with one byte flipped. */
  corrupt: Set<string>;
  /** Paths whose listed size is replaced (e.g. to claim terabytes). */
  listedSize: Map<string, number>;
  /** Send a wrong X-Linked-Etag for LFS files. */
  lieEtag: boolean;
}

interface FakeHub {
  url: string;
  log: Array<{ method: string; path: string; range: string | null }>;
  behaviour: HubBehaviour;
  close(): Promise<void>;
}

function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  headers: Record<string, string>,
  drop: boolean,
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
  if (drop) {
    // Send 40 % and cut the connection, as a flaky network does.
    res.write(slice.subarray(0, Math.floor(slice.length * 0.4)), () => res.socket?.destroy());
    return;
  }
  res.end(slice);
}

async function startHub(): Promise<FakeHub> {
  const behaviour: HubBehaviour = {
    dropOnce: new Set(),
    corrupt: new Set(),
    listedSize: new Map(),
    lieEtag: false,
  };
  const log: FakeHub['log'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ method: req.method ?? '', path: url.pathname, range: req.headers.range ?? null });
    const listing = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (listing) {
      if (listing[1] !== REPO || url.searchParams.get('blobs') !== 'true') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: REPO,
          sha: COMMIT,
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
    const resolve = new RegExp(`^/${REPO}/resolve/([^/]+)/(.+)$`).exec(url.pathname);
    const file = resolve ? files.find((f) => f.path === decodeURIComponent(resolve[2])) : undefined;
    if (resolve && file && (resolve[1] === COMMIT || resolve[1] === 'main')) {
      const common = { 'x-repo-commit': COMMIT };
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
      serveBytes(req, res, served(file), { ...common, etag: `"${gitBlob(file.content)}"` }, takeDrop(file));
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const blob = cdn ? files.find((f) => sha256(f.content) === cdn[1]) : undefined;
    if (blob && req.headers.authorization === undefined) {
      serveBytes(req, res, served(blob), {}, takeDrop(blob));
      return;
    }
    res.writeHead(404).end('not found');
  });
  const served = (f: RepoFile): Buffer => {
    if (!behaviour.corrupt.has(f.path)) return f.content;
    const copy = Buffer.from(f.content);
    copy[Math.floor(copy.length / 2)] ^= 0xff;
    return copy;
  };
  const takeDrop = (f: RepoFile): boolean => behaviour.dropOnce.delete(f.path);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    behaviour,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let hub: FakeHub;
let work: string;
beforeAll(async () => {
  hub = await startHub();
  work = mkdtempSync(join(tmpdir(), 'g2-download-'));
});
afterAll(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => {
  hub.log.length = 0;
  hub.behaviour.dropOnce.clear();
  hub.behaviour.corrupt.clear();
  hub.behaviour.listedSize.clear();
  hub.behaviour.lieEtag = false;
});

const isStudioError = (code: string) => (e: unknown) =>
  e instanceof StudioError && e.code === code && e.fix.length > 0;
const fast = { retryDelayMs: 10 };

describe('checkpoint download from a hub on 127.0.0.1', () => {
  it('downloads, resumes a dropped transfer with a range request, verifies, and the folder opens as a checkpoint', async () => {
    const dest = join(work, 'resumed');
    hub.behaviour.dropOnce.add('model.safetensors');
    hub.behaviour.dropOnce.add('text_config.json');
    const progress: DownloadProgress[] = [];
    const result = await downloadCheckpoint({
      dest,
      repoId: REPO,
      endpoint: hub.url,
      onProgress: (p) => progress.push(p),
      ...fast,
    });
    expect(result.commit).toBe(COMMIT);
    const weights = result.files.find((f) => f.path === 'model.safetensors')!;
    const total = files[0].content.length;
    expect(weights.resumedFrom).toHaveLength(2);
    expect(weights.resumedFrom[0]).toBe(0);
    expect(weights.resumedFrom[1]).toBeGreaterThan(total * 0.3);
    expect(hub.log).toContainEqual({
      method: 'GET',
      path: `/cdn/${sha256(files[0].content)}`,
      range: `bytes=${weights.resumedFrom[1]}-`,
    });
    // Pinned to the listed commit, never "main", once the listing is known.
    expect(hub.log.filter((r) => r.path.includes('/resolve/main/'))).toEqual([]);
    expect(result.files.find((f) => f.path === 'text_config.json')!.resumedFrom.length).toBe(2);

    for (const f of files.filter((f) => f.path !== 'README.md'))
      expect(sha256(readFileSync(join(dest, f.path)))).toBe(sha256(f.content));
    expect(existsSync(join(dest, 'README.md'))).toBe(false);
    expect(existsSync(`${dest}.download`)).toBe(false);
    expect(readdirSync(dest).some((n) => n.endsWith('.part'))).toBe(false);

    const bytes = progress.map((p) => p.bytesDone);
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]).toBeGreaterThanOrEqual(bytes[i - 1]);
    expect(progress.at(-1)!.progress).toBe(1);

    const imported = await importCheckpointFolder(dest);
    expect(imported.hasTokenizer).toBe(true);
    expect(imported.catalogModelId).toBeNull(); // a tiny random model, not the 2B one
    expect(imported.download).toEqual({ repoId: REPO, revision: 'main', commit: COMMIT });
    expect(imported.parameterCount).toBeGreaterThan(1000);
  });

  it('rejects a corrupted file (model-corrupt), deletes it, leaves no destination; a later run fetches only what is missing', async () => {
    const dest = join(work, 'corrupt');
    hub.behaviour.corrupt.add('model.safetensors');
    await expect(downloadCheckpoint({ dest, repoId: REPO, endpoint: hub.url, ...fast })).rejects.toSatisfy(
      isStudioError('model-corrupt'),
    );
    expect(existsSync(dest)).toBe(false);
    const staged = readdirSync(`${dest}.download`);
    expect(staged.filter((n) => n.startsWith('model.safetensors'))).toEqual([]);

    hub.behaviour.corrupt.clear();
    hub.log.length = 0;
    const result = await downloadCheckpoint({ dest, repoId: REPO, endpoint: hub.url, ...fast });
    expect(sha256(readFileSync(join(dest, 'model.safetensors')))).toBe(sha256(files[0].content));
    // Config files verified in the first run were kept, not fetched again.
    expect(hub.log.filter((r) => r.path.endsWith('_config.json'))).toEqual([]);
    expect(result.files.find((f) => f.path === 'vit_config.json')!.resumedFrom).toEqual([]);
  });

  it('rejects a file whose X-Linked-Etag disagrees with the listing', async () => {
    hub.behaviour.lieEtag = true;
    await expect(
      downloadCheckpoint({ dest: join(work, 'lie'), repoId: REPO, endpoint: hub.url, ...fast }),
    ).rejects.toSatisfy(isStudioError('model-corrupt'));
  });

  it('cancel keeps the partial file; the next run resumes from its last byte', async () => {
    const dest = join(work, 'cancelled');
    const controller = new AbortController();
    const total = files[0].content.length;
    await expect(
      downloadCheckpoint({
        dest,
        repoId: REPO,
        endpoint: hub.url,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file === 'model.safetensors' && p.bytesDone > total * 0.2) controller.abort();
        },
        ...fast,
      }),
    ).rejects.toSatisfy(isStudioError('cancelled'));
    expect(existsSync(dest)).toBe(false);
    const part = statSync(join(`${dest}.download`, 'model.safetensors.part')).size;
    expect(part).toBeGreaterThan(0);
    const result = await downloadCheckpoint({ dest, repoId: REPO, endpoint: hub.url, ...fast });
    expect(result.files.find((f) => f.path === 'model.safetensors')!.resumedFrom).toEqual([part]);
    expect(sha256(readFileSync(join(dest, 'model.safetensors')))).toBe(sha256(files[0].content));
  });

  it('checks free disk space before fetching a byte or creating a folder', async () => {
    const dest = join(work, 'huge');
    hub.behaviour.listedSize.set('model.safetensors', 2 ** 50);
    await expect(downloadCheckpoint({ dest, repoId: REPO, endpoint: hub.url, ...fast })).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof StudioError &&
        e.code === 'disk-full' &&
        /disk space/.test(e.message) &&
        /Free at least/.test(e.fix),
    );
    expect(hub.log.filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'))).toEqual([]);
    expect(existsSync(`${dest}.download`)).toBe(false);
    expect(await freeDiskBytes(join(work, 'not', 'yet'))).toBeGreaterThan(0);
    await expect(ensureFreeDiskSpace(work, 1024)).resolves.toBeUndefined();
  });

  it('hub and input errors are typed: unknown repo, bad id, existing folder, unreachable hub; HF_ENDPOINT is honoured', async () => {
    await expect(
      downloadCheckpoint({ dest: join(work, 'x1'), repoId: 'acme/none', endpoint: hub.url }),
    ).rejects.toSatisfy(isStudioError('not-found'));
    await expect(
      downloadCheckpoint({ dest: join(work, 'x2'), repoId: 'no slash', endpoint: hub.url }),
    ).rejects.toSatisfy(isStudioError('invalid-input'));
    await expect(downloadCheckpoint({ dest: work, repoId: REPO, endpoint: hub.url })).rejects.toSatisfy(
      isStudioError('invalid-input'),
    );
    await expect(
      downloadCheckpoint({ dest: join(work, 'x3'), repoId: REPO, endpoint: 'http://127.0.0.1:9' }),
    ).rejects.toSatisfy(
      (e: unknown) => e instanceof StudioError && /Cannot reach the model hub/.test(e.message),
    );
    expect(hubAccess({}, { HF_ENDPOINT: `${hub.url}/` }).endpoint).toBe(hub.url);
    expect(hubAccess({}, {}).endpoint).toBe('https://huggingface.co');
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = hub.url;
    try {
      const result = await downloadCheckpoint({
        dest: join(work, 'env'),
        repoId: REPO,
        files: ['text_config.json'],
      });
      expect(result.files.map((f) => f.path)).toEqual(['text_config.json']);
    } finally {
      if (saved === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = saved;
    }
  });

  it('importing a local folder validates it: the golden checkpoint opens, a folder without weights is refused', async () => {
    const golden = await importCheckpointFolder(GOLDEN);
    expect(golden.hasTokenizer).toBe(false);
    expect(golden.download).toBeNull();
    await expect(importCheckpointFolder(join(work, 'env'))).rejects.toSatisfy(isStudioError('model-missing'));
  });
});
