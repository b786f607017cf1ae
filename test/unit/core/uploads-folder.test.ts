// Folder uploads in the core (main/core/uploads.ts) on real files: the
// manifest is checked against the bounds before a byte is written, each file
// must be announced and exactly its announced size (nothing of a refused file
// stays), the folder is importable only once whole, and release/close remove it.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Uploads } from '../../../main/core/uploads';

let dir: string;
let uploads: Uploads;
const limits = { maxFiles: 4, maxBytes: 100 };
const body = (text: string) => Readable.from([Buffer.from(text)]);
/** Everything under the uploads folder, as relative paths. */
const onDisk = async () =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'g2-folder-upload-'));
  uploads = new Uploads(() => dir, limits);
});
afterEach(async () => {
  await uploads.close();
  await rm(dir, { recursive: true, force: true });
});

describe('folder uploads', () => {
  it('refuses too many files or bytes, and unsafe names, before writing anything', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ path: `images/${i}.jpg`, bytes: 1 }));
    await expect(uploads.beginFolder({ name: 'cap', files: many })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('5 files'),
    });
    await expect(
      uploads.beginFolder({ name: 'cap', files: [{ path: 'points3D.bin', bytes: 101 }] }),
    ).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('100 B') });
    for (const path of ['../x.jpg', '/etc/passwd', 'images/../../x', 'C:/x']) {
      await expect(uploads.beginFolder({ name: 'cap', files: [{ path, bytes: 1 }] })).rejects.toMatchObject({
        code: 'invalid-input',
      });
    }
    expect(await onDisk()).toEqual([]);
  });

  it('assembles announced files under the folder name and resolves only once whole', async () => {
    const started = await uploads.beginFolder({
      name: 'garden',
      files: [
        { path: 'sparse/0/cameras.txt', bytes: 5 },
        { path: 'images/a.jpg', bytes: 3 },
      ],
    });
    expect(started).toMatchObject({ fileCount: 2, totalBytes: 8 });
    const source = { kind: 'upload' as const, uploadId: started.uploadId };
    expect(await uploads.saveFolderFile(started.uploadId, 'images/a.jpg', body('abc'))).toEqual({
      received: 1,
      remaining: 1,
    });
    await expect(uploads.resolve([source])).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('missing 1 of its 2 files'),
    });
    await uploads.saveFolderFile(started.uploadId, 'sparse/0/cameras.txt', body('12345'));
    const { paths, displayNames } = await uploads.resolve([source]);
    expect(displayNames).toEqual(['garden']);
    expect(await readFile(join(paths[0], 'sparse', '0', 'cameras.txt'), 'utf8')).toBe('12345');
    expect(await onDisk()).toEqual([
      join(started.uploadId, 'garden', 'images', 'a.jpg'),
      join(started.uploadId, 'garden', 'sparse', '0', 'cameras.txt'),
    ]);
    expect(await uploads.release(started.uploadId)).toBe(true);
    expect(await onDisk()).toEqual([]);
    await expect(uploads.resolve([source])).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses a file not announced, sent twice, or longer or shorter than announced, keeping none of it', async () => {
    const { uploadId } = await uploads.beginFolder({
      name: 'cap',
      files: [
        { path: 'a.jpg', bytes: 4 },
        { path: 'b.jpg', bytes: 4 },
      ],
    });
    await expect(uploads.saveFolderFile(uploadId, 'c.jpg', body('abcd'))).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('not announced'),
    });
    await expect(uploads.saveFolderFile(uploadId, '../a.jpg', body('abcd'))).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(uploads.saveFolderFile(uploadId, 'a.jpg', body('abcdefgh'))).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('larger than the 4 bytes'),
    });
    await expect(uploads.saveFolderFile(uploadId, 'b.jpg', body('ab'))).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('2 of its 4 bytes'),
    });
    expect(await onDisk()).toEqual([]);
    // A refused file may be sent again whole; a whole one only once.
    await uploads.saveFolderFile(uploadId, 'a.jpg', body('abcd'));
    await expect(uploads.saveFolderFile(uploadId, 'a.jpg', body('abcd'))).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('already sent'),
    });
    await expect(uploads.saveFolderFile('upl_0000000000000000', 'a.jpg', body('abcd'))).rejects.toMatchObject(
      {
        code: 'not-found',
      },
    );
  });

  it('removes a folder upload left idle (a closed tab), not one whose file is arriving or one handed to an import', async () => {
    const quick = new Uploads(() => dir, limits, { afterMs: 100, checkEveryMs: 20 });
    const idle = await quick.beginFolder({ name: 'left', files: [{ path: 'a.jpg', bytes: 1 }] });
    const slow = await quick.beginFolder({ name: 'slow', files: [{ path: 'b.jpg', bytes: 2 }] });
    // Whole and handed to an import that waits in the queue: not idle.
    const queued = await quick.beginFolder({ name: 'queued', files: [{ path: 'c.jpg', bytes: 1 }] });
    await quick.saveFolderFile(queued.uploadId, 'c.jpg', body('c'));
    const [queuedPath] = (await quick.resolve([{ kind: 'upload', uploadId: queued.uploadId }])).paths;
    await expect(quick.resolve([{ kind: 'upload', uploadId: queued.uploadId }])).rejects.toMatchObject({
      code: 'busy',
    });
    // One byte now, the second after the idle time: the file is arriving all along.
    const trickle = new PassThrough();
    const arriving = quick.saveFolderFile(slow.uploadId, 'b.jpg', trickle);
    trickle.write('x');
    await new Promise((done) => setTimeout(done, 400));
    expect(existsSync(quick.dirOf(idle.uploadId))).toBe(false);
    await expect(quick.saveFolderFile(idle.uploadId, 'a.jpg', body('x'))).rejects.toMatchObject({
      code: 'not-found',
    });
    trickle.end('y');
    await expect(arriving).resolves.toEqual({ received: 1, remaining: 0 });
    expect(await readFile(join(queuedPath, 'c.jpg'), 'utf8')).toBe('c');
    await quick.close();
    expect(await onDisk()).toEqual([]);
  });

  it('removes every folder upload it holds when the studio closes', async () => {
    const { uploadId } = await uploads.beginFolder({ name: 'cap', files: [{ path: 'a.jpg', bytes: 1 }] });
    await uploads.saveFolderFile(uploadId, 'a.jpg', body('x'));
    expect(existsSync(uploads.dirOf(uploadId))).toBe(true);
    await uploads.close();
    expect(existsSync(uploads.dirOf(uploadId))).toBe(false);
  });
});
