// Which files of a picked folder the web UI sends: a COLMAP project's model and
// images (not its database, dense/ outputs or hidden files), a transforms.json
// and what it names (not an unreferenced depth map), the photos of a plain
// folder; and the bounds checked before anything is sent.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PickedFolder } from '../../../../main/common/api';
import { planFolderUpload } from '../../../../renderer/src/library/folder-upload-plan';
import {
  writeColmapProject,
  writeTransformsCapture,
  type PosedFixture,
} from '../../../support/posed-capture-fixtures';

let work: string;
let colmap: PosedFixture;
let nerf: PosedFixture;

/** A folder on disk as the browser hands it over: File objects by relative path. */
async function picked(dir: string, name = 'capture'): Promise<PickedFolder> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: PickedFolder['files'] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const full = join(entry.parentPath, entry.name);
    files.push({
      path: relative(dir, full).split(sep).join('/'),
      file: new File([await readFile(full)], entry.name),
    });
  }
  return { name, files };
}

const pathsOf = (folder: PickedFolder) => folder.files.map((f) => f.path).sort();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'g2-folder-plan-'));
  colmap = await writeColmapProject(join(work, 'colmap'));
  nerf = await writeTransformsCapture(join(work, 'nerf'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('folder upload plan', () => {
  it('sends a COLMAP project’s model and images, nothing else', async () => {
    const folder = await picked(colmap.dir, 'garden');
    for (const extra of colmap.extra) expect(pathsOf(folder)).toContain(extra);
    const plan = await planFolderUpload(folder);
    expect(plan.kind).toBe('colmap');
    expect(pathsOf(plan.folder)).toEqual([...colmap.needed].sort());
    expect(plan.summary).toBe('COLMAP model (text, sparse/0) · 4 images');
    const sizes = plan.folder.files.reduce((sum, f) => sum + f.file.size, 0);
    expect(plan.totalBytes).toBe(sizes);
  });

  it('sends transforms.json and the files it names', async () => {
    const plan = await planFolderUpload(await picked(nerf.dir));
    expect(plan.kind).toBe('nerfstudio');
    expect(pathsOf(plan.folder)).toEqual([...nerf.needed].sort());
    expect(plan.summary).toBe('transforms.json · 3 images');
  });

  it('says which file a transforms.json names that the folder lacks', async () => {
    const folder = await picked(nerf.dir);
    folder.files = folder.files.filter((f) => f.path !== 'images/frame_00001.jpg');
    await expect(planFolderUpload(folder)).rejects.toMatchObject({
      code: 'unreadable-path',
      message: expect.stringContaining('images/frame_00001.jpg'),
    });
  });

  it('sends a plain folder’s top-level photos, and refuses a folder with none', async () => {
    const photos = await picked(join(colmap.dir, 'images'), 'photos');
    const plan = await planFolderUpload(photos);
    expect(plan.kind).toBe('photos');
    expect(plan.summary).toBe('4 photos');
    const empty = join(work, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'notes.txt'), 'no photos here');
    await expect(planFolderUpload(await picked(empty))).rejects.toMatchObject({ code: 'unsupported-file' });
  });

  it('checks the bounds on the files it would send, before sending', async () => {
    const folder = await picked(colmap.dir);
    await expect(planFolderUpload(folder, { maxFiles: 6, maxBytes: 1e9 })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('7 files'),
    });
    await expect(planFolderUpload(folder, { maxFiles: 100, maxBytes: 1000 })).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringContaining('more than'),
    });
    // The database and dense/ outputs do not count: exactly the needed files fit.
    await expect(planFolderUpload(folder, { maxFiles: 7, maxBytes: 1e9 })).resolves.toMatchObject({
      kind: 'colmap',
    });
  });
});
