// Downloading an export over the web bridge (real studio core, real SQLite
// library in a temp folder, real HTTP): the studio's copy in
// <library>/exports is deleted once the whole file has been sent, and kept
// when the download is only looked at (HEAD) or cut short by the client.

import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportResult } from '../../../main/common/domain';
import { createStudio, type Studio } from '../../../main/core/studio';
import { startWebServer, type WebServerHandle } from '../../../main/server/web-server';
import { syntheticScene } from '../../support/library-fixtures';

describe('export downloads over the web bridge', () => {
  let dir: string;
  let studio: Studio;
  let server: WebServerHandle;
  let sceneId: string;

  const authorization = () => ({ Authorization: `Bearer ${server.token}` });

  /** A finished PLY export of the scene, started over HTTP like the Export menu does. */
  async function exportOverHttp(): Promise<ExportResult> {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/call`, {
      method: 'POST',
      headers: { ...authorization(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'scenes.export', input: { sceneId, format: 'ply' } }),
    });
    const { result } = (await response.json()) as { result: { jobId: string } };
    const job = await studio.waitForJob(result.jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    return job.result as unknown as ExportResult;
  }

  const folderOf = (result: ExportResult) => join(dir, 'library', 'exports', result.exportId);

  /** GET the export and read `limit` bytes at most, then drop the connection. Resolves with what came. */
  function getExport(result: ExportResult, limit = Infinity): Promise<{ status: number; bytes: number }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: `/blobs/exports/${result.exportId}`,
          headers: authorization(),
        },
        (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.byteLength;
            if (bytes >= limit) {
              req.destroy();
              resolve({ status: res.statusCode ?? 0, bytes });
            }
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
          res.on('error', () => undefined);
        },
      );
      req.on('error', (error) => (limit === Infinity ? reject(error) : undefined));
      req.end();
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2-export-download-'));
    const rendererDir = join(dir, 'renderer');
    await mkdir(rendererDir, { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>G2 Studio</title>');
    studio = await createStudio({ libraryPath: join(dir, 'library'), mode: 'web' });
    // About 22 MB of PLY: far more than a socket buffers, so a dropped download stops mid-file.
    sceneId = studio.library.scenes.create(await syntheticScene(2, 1_500_000, 'Download me')).id;
    server = await startWebServer(studio, { port: 0, rendererDir });
  });

  afterAll(async () => {
    await server?.close();
    await studio?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a HEAD and a download cut short keep the file; a whole download deletes it', async () => {
    const result = await exportOverHttp();
    expect(existsSync(folderOf(result))).toBe(true);

    const head = await fetch(`http://127.0.0.1:${server.port}/blobs/exports/${result.exportId}`, {
      method: 'HEAD',
      headers: authorization(),
    });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(result.bytes);
    expect(existsSync(folderOf(result))).toBe(true);

    const cut = await getExport(result, 64 * 1024);
    expect(cut.status).toBe(200);
    expect(cut.bytes).toBeLessThan(result.bytes);
    // Give the server time to notice the dropped connection; the file must still be there.
    await new Promise((done) => setTimeout(done, 500));
    expect(existsSync(folderOf(result))).toBe(true);

    const whole = await getExport(result);
    expect(whole).toEqual({ status: 200, bytes: result.bytes });
    await expect.poll(() => existsSync(folderOf(result)), { timeout: 5_000 }).toBe(false);
    // Asking again finds nothing: the studio kept no copy.
    expect((await getExport(result)).status).toBe(404);
  });
});
