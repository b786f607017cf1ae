// The checkpoint downloader against a real HTTP server on 127.0.0.1 that
// serves the golden tiny checkpoint the way the Hugging Face hub does: a
// revision listing with LFS sha256 and git blob ids, resolve URLs that redirect
// LFS files to a "CDN" with X-Linked-Etag / X-Repo-Commit, range requests. The
// server (test/support/hub-server.ts) can drop a connection mid-file, corrupt a
// file, or lie in its headers.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import {
  downloadCheckpoint,
  type DownloadProgress,
} from '../../../../main/model/download/checkpoint-download';
import { ensureFreeDiskSpace, freeDiskBytes } from '../../../../main/model/download/disk-space';
import { hubAccess } from '../../../../main/model/download/hub-endpoint';
import { importCheckpointFolder } from '../../../../main/model/download/import-checkpoint';
import {
  FAKE_COMMIT as COMMIT,
  FAKE_REPO as REPO,
  GOLDEN_CHECKPOINT as GOLDEN,
  sha256,
  startFakeHub,
  type FakeHub,
  type RepoFile,
} from '../../../support/hub-server';

let hub: FakeHub;
let work: string;
let files: RepoFile[];
beforeAll(async () => {
  hub = await startFakeHub();
  files = hub.files;
  work = mkdtempSync(join(tmpdir(), 'g2-download-'));
});
afterAll(async () => {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => hub.reset());

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
    // bytesDone counts every file; the weights come last (largest), after the others.
    let weightsStart: number | null = null;
    await expect(
      downloadCheckpoint({
        dest,
        repoId: REPO,
        endpoint: hub.url,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.file !== 'model.safetensors') return;
          weightsStart ??= p.bytesDone;
          if (p.bytesDone - weightsStart > total * 0.2) controller.abort();
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
