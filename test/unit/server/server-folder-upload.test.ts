// Folder uploads over the web bridge, against a real studio core and library:
// a COLMAP project sent file by file under its relative paths becomes a scene
// with its frames, cameras and points, and its assembled folder is gone
// afterwards; names that climb out, files longer than announced, and folders
// past the bounds are refused with typed errors and leave nothing behind.

import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FolderUploadStarted } from '../../../main/common/api';
import type { SceneDetail } from '../../../main/common/domain';
import type { StudioErrorInfo } from '../../../main/common/errors';
import { createStudio, type Studio } from '../../../main/core/studio';
import { startWebServer, type WebServerHandle } from '../../../main/server/web-server';
import { LENS_A, LENS_B, writeColmapProject, type PosedFixture } from '../../support/posed-capture-fixtures';

/** The bridge's answer; `result` is read as each operation's result type. */
interface Envelope {
  ok: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the result it expects
  result: any;
  error: StudioErrorInfo;
}

describe('folder uploads over the web bridge', () => {
  let dir: string;
  let studio: Studio;
  let server: WebServerHandle;
  let colmap: PosedFixture;
  const limits = { maxFiles: 12, maxBytes: 2 * 2 ** 20 };

  const post = async (path: string, body: string | Buffer, contentType: string) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': contentType },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: response.status, body: (await response.json()) as Envelope };
  };
  const call = (name: string, input: unknown) =>
    post('/api/call', JSON.stringify({ name, input }), 'application/json');
  const sendFile = (uploadId: string, path: string, body: Buffer) =>
    post(
      `/api/upload/folder-file?uploadId=${uploadId}&path=${encodeURIComponent(path)}`,
      body,
      'application/octet-stream',
    );
  const uploadsLeft = async () => readdir(studio.library.uploadsDir, { recursive: true });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2-server-folder-'));
    colmap = await writeColmapProject(join(dir, 'garden'));
    studio = await createStudio({
      libraryPath: join(dir, 'library'),
      mode: 'web',
      folderUploadLimits: limits,
    });
    server = await startWebServer(studio, { port: 0, rendererDir: join(dir, 'no-renderer') });
  });
  afterAll(async () => {
    await server?.close();
    await studio?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a COLMAP project sent file by file, then removes the assembled folder', async () => {
    const files = await Promise.all(
      colmap.needed.map(async (path) => ({ path, bytes: await readFile(join(colmap.dir, path)) })),
    );
    const begun = await call('uploads.beginFolder', {
      name: 'garden',
      files: files.map((f) => ({ path: f.path, bytes: f.bytes.length })),
    });
    expect(begun.status).toBe(200);
    const { uploadId, fileCount } = begun.body.result as FolderUploadStarted;
    expect(fileCount).toBe(colmap.needed.length);
    // Importing before the last file arrived is refused, and the upload stays usable.
    for (const file of files.slice(0, -1))
      expect((await sendFile(uploadId, file.path, file.bytes)).status).toBe(200);
    const early = await call('scenes.import', { sources: [{ kind: 'upload', uploadId }] });
    expect(early.status).toBe(400);
    expect(early.body.error.message).toContain('missing 1 of its');
    const last = files.at(-1)!;
    expect((await sendFile(uploadId, last.path, last.bytes)).body.result).toEqual({
      received: files.length,
      remaining: 0,
    });

    const started = await call('scenes.import', { sources: [{ kind: 'upload', uploadId }] });
    expect(started.status).toBe(200);
    const job = await studio.waitForJob(started.body.result.jobId as string);
    expect(job.status, job.error?.message).toBe('succeeded');
    expect(job.title).toBe('Import garden');
    expect(job.message).toBe(
      'Imported "garden" from a COLMAP model (text, sparse/0): 4 images, 2 cameras, 300 points.',
    );
    const scene = (await call('scenes.get', { sceneId: job.sceneId })).body.result as SceneDetail;
    expect(scene.name).toBe('garden');
    expect(scene.frames).toHaveLength(4);
    expect(scene.pointCount).toBe(300);
    expect(scene.cameras.map((c) => c.intrinsics?.fx)).toEqual([LENS_A.fx, LENS_A.fx, LENS_A.fx, LENS_B.fx]);
    colmap.input.frames.forEach((frame, i) => {
      scene.cameras[i].worldFromCamera.forEach((v, j) =>
        expect(v).toBeCloseTo(frame.camera.worldFromCamera[j], 5),
      );
    });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('refuses names that leave the folder, at the announcement and at the file route', async () => {
    for (const path of ['../x.jpg', '/etc/passwd', 'images/../../x.jpg', 'C:/x.jpg', 'a\\..\\x']) {
      const refused = await call('uploads.beginFolder', { name: 'evil', files: [{ path, bytes: 1 }] });
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.code).toBe('invalid-input');
    }
    const { uploadId } = (
      await call('uploads.beginFolder', { name: 'ok', files: [{ path: 'a.jpg', bytes: 3 }] })
    ).body.result as FolderUploadStarted;
    for (const path of ['../a.jpg', '/a.jpg', '']) {
      const refused = await sendFile(uploadId, path, Buffer.from('abc'));
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.code).toBe('invalid-input');
    }
    expect((await readdir(join(dir, '..'))).includes('a.jpg')).toBe(false);
    expect((await call('uploads.discard', { uploadId })).body.result).toEqual({ discarded: true });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('refuses too many files or bytes before any is sent, and a file longer than announced', async () => {
    const many = Array.from({ length: limits.maxFiles + 1 }, (_, i) => ({
      path: `images/${i}.jpg`,
      bytes: 1,
    }));
    const tooMany = await call('uploads.beginFolder', { name: 'big', files: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({
      code: 'invalid-input',
      fix: expect.stringContaining('g2studio import'),
    });
    expect(tooMany.body.error.message).toContain(`${limits.maxFiles + 1} files`);
    const tooBig = await call('uploads.beginFolder', {
      name: 'big',
      files: [{ path: 'points3D.bin', bytes: limits.maxBytes + 1 }],
    });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.message).toContain('2.0 MiB');

    const { uploadId } = (
      await call('uploads.beginFolder', { name: 'liar', files: [{ path: 'a.jpg', bytes: 4 }] })
    ).body.result as FolderUploadStarted;
    const longer = await sendFile(uploadId, 'a.jpg', Buffer.alloc(64 * 1024, 1));
    expect(longer.status).toBe(400);
    expect(longer.body.error.message).toContain('larger than the 4 bytes');
    const files = (await uploadsLeft()).map(String);
    expect(files.some((name) => name.endsWith('a.jpg') || name.endsWith('.partial'))).toBe(false);
    await call('uploads.discard', { uploadId });
  });
});
