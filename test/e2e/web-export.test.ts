// Exports from the UI honour the edit stack, checked on the downloaded files:
// a reconstructed scene (stored the way a reconstruction stores it, with
// fitted intrinsics, per-point frames and map-based scores; the tiny golden
// checkpoint's random weights give no usable intrinsics) has a frame hidden
// with its eye toggle (the picture changes, the count drops) and a depth-edge
// filter applied; then the
// PLY holds exactly the kept points, the COLMAP zip has the visible frames'
// poses as scenes.get gives them, and nerfstudio's transforms.json the same frames.
// Every export runs as a job listed in Jobs, and once its download is done the
// studio's copy in <library>/exports is gone. The PLY's up axis is a choice in
// the menu (OpenCV by default): a z-up PLY holds the OpenCV PLY's points as (x, z, -y).

import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraInfo, JobInfo, SceneDetail, SceneEditState } from '../../main/common/domain';
import { EXPORT_LIFETIME_NOTE } from '../../main/common/export-lifetime';
import { Library } from '../../main/core/library/library';
import { syntheticScene } from '../support/library-fixtures';
import { reconstructedFloorScene } from '../support/reconstructed-scene';
import {
  callApi,
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  sceneCanvasRgb,
  screenshot,
  startStudio,
  type StudioUnderTest,
  waitForJobOver,
} from './harness';

const skipReason = missingPrerequisites();

/** Row-major 3x3 rotation of a unit quaternion (w, x, y, z). */
function rotationOfQuaternion([w, x, y, z]: number[]): number[] {
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
}

/** worldFromCamera (row-major 4x4) of a COLMAP image line's cameraFromWorld pose. */
function worldFromColmapPose(q: number[], t: number[]): number[] {
  const r = rotationOfQuaternion(q);
  // Inverse of a rigid pose: R^T and -R^T t.
  const rt = [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]];
  const c = [0, 1, 2].map((i) => -(rt[i * 3] * t[0] + rt[i * 3 + 1] * t[1] + rt[i * 3 + 2] * t[2]));
  return [rt[0], rt[1], rt[2], c[0], rt[3], rt[4], rt[5], c[1], rt[6], rt[7], rt[8], c[2], 0, 0, 0, 1];
}

const maxDifference = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/** x, y, z of every vertex of a binary little-endian PLY whose first properties are float x, y, z. */
function plyPoints(bytes: Buffer): number[][] {
  const headerEnd = bytes.indexOf('end_header\n') + 'end_header\n'.length;
  const header = bytes.subarray(0, headerEnd).toString('latin1');
  const count = Number(/element vertex (\d+)/.exec(header)?.[1]);
  const stride =
    (header.match(/property float /g) ?? []).length * 4 + (header.match(/property uchar /g) ?? []).length;
  return Array.from({ length: count }, (_, i) =>
    [0, 1, 2].map((axis) => bytes.readFloatLE(headerEnd + i * stride + axis * 4)),
  );
}

/** Files of a zip by their path, found by the end of the path (the zip may have a top folder). */
function zipEntries(bytes: Uint8Array): { find(suffix: string): Uint8Array; names: string[] } {
  const files = unzipSync(bytes);
  const names = Object.keys(files);
  return {
    names,
    find(suffix) {
      const name = names.find((item) => item === suffix || item.endsWith(`/${suffix}`));
      if (!name) throw new Error(`${suffix} is not in the zip: ${names.join(', ')}`);
      return files[name];
    },
  };
}

describe.skipIf(skipReason !== null)(
  `exports from the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let scratch: string;
    let scene: SceneDetail;
    let hiddenCamera: CameraInfo;
    let libraryPath: string;
    let bigSceneId: string;
    /** The binary PLY of the first PLY export (OpenCV axes, the default). */
    let openCvPly: Buffer;

    const api = <T>(name: string, input: unknown): Promise<T> => callApi<T>(studio, name, input);
    const editState = () => api<SceneEditState>('edits.get', { sceneId: scene.id });
    const shown = async () => Number(await page.getByTestId('cloud-status').getAttribute('data-shown'));
    const canvasPixels = async () => (await sceneCanvasRgb(page)).data;
    /** Pixels of the cloud's grey (the fixture colours every point 90, 90, 90). */
    const greyPixels = (raw: Buffer) => {
      let count = 0;
      for (let i = 0; i < raw.length; i += 3)
        if (Math.max(Math.abs(raw[i] - 90), Math.abs(raw[i + 1] - 90), Math.abs(raw[i + 2] - 90)) < 25)
          count++;
      return count;
    };
    /** The studio's copies of exports waiting for their download. */
    const exportCopies = () => readdirSync(join(libraryPath, 'exports'));
    /** Clicks an entry of the open Export menu, saves what its job downloads, and checks the studio kept no copy. */
    const downloadEntry = async (entry: string): Promise<Buffer> => {
      const downloadStarted = page.waitForEvent('download', { timeout: 60_000 });
      await page.getByTestId(`export-${entry}`).click();
      const download = await downloadStarted;
      const path = join(scratch, download.suggestedFilename());
      await download.saveAs(path);
      await expect.poll(exportCopies, { timeout: 10_000 }).toEqual([]);
      return readFile(path);
    };
    /** Clicks an Export menu entry and saves what it downloads. */
    const exportFromMenu = async (entry: string): Promise<Buffer> => {
      await page.getByTestId('export-button').click();
      return downloadEntry(entry);
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-export-'));
      libraryPath = join(scratch, 'library');
      const library = Library.open(libraryPath);
      const sceneId = await reconstructedFloorScene(library, 'export me');
      // Never opened in the viewer: its slow ASCII export keeps the job queue busy in the cancel test.
      bigSceneId = library.scenes.create(await syntheticScene(2, 1_500_000, 'Busy')).id;
      library.close();
      studio = await startStudio({ library: libraryPath });
      scene = await api<SceneDetail>('scenes.get', { sceneId });
      expect(scene.cameras.every((camera) => camera.intrinsics !== null)).toBe(true);
      expect(scene.cameras.length).toBeGreaterThanOrEqual(3);

      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
      problems = collectPageProblems(page);
      await page.goto(studio.url);
      await page.locator(`[data-scene-id=${scene.id}]`).getByTestId('scene-open').click();
      await page.locator('[data-testid=cloud-status][data-status=ready]').waitFor({ timeout: 60_000 });
      await page.getByTestId('point-size').fill('4');
      await page.getByLabel('Cameras').uncheck();
      await page.getByTestId('fit-button').click();
    });

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it("hides a frame's points with its eye toggle and shows them again", async () => {
      expect(await shown()).toBe(scene.pointCount);
      const before = greyPixels(await canvasPixels());
      expect(before).toBeGreaterThan(2000);
      await screenshot(page, 'export-00-all-frames');
      const eyes = page.getByTestId('frame-eye');
      expect(await eyes.count()).toBe(scene.cameras.length);
      await eyes.nth(1).click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(1);
      const state = await editState();
      expect(state.hiddenFrames).toHaveLength(1);
      hiddenCamera = scene.cameras.find((camera) => camera.frameIndex === state.hiddenFrames[0])!;
      expect(await page.locator('[data-testid=frame-cell][data-hidden=true]').count()).toBe(1);
      // One frame of three carries a good share of the points.
      expect(state.keptCount).toBeLessThan(scene.pointCount * 0.9);
      await expect.poll(shown, { timeout: 20_000 }).toBe(state.keptCount);
      const hidden = greyPixels(await canvasPixels());
      await screenshot(page, 'export-01-frame-hidden');
      expect(hidden).toBeLessThan(before * 0.9);

      // Showing it again is an edit too (undo would also do), and the picture comes back.
      await eyes.nth(1).click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(2);
      await expect.poll(shown, { timeout: 20_000 }).toBe(scene.pointCount);
      expect(Math.abs(greyPixels(await canvasPixels()) - before)).toBeLessThan(before * 0.01);
      expect((await page.getByTestId('edit-entry').allTextContents())[1]).toBe('Show all frames');
      await eyes.nth(1).click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(3);
      await expect.poll(shown, { timeout: 20_000 }).toBe(state.keptCount);
    });

    it('applies a depth-edge filter from the map-based scores', async () => {
      await page.getByTestId('filter-section').locator('summary').click();
      expect(await page.getByTestId('filter-score').locator('option').allTextContents()).toEqual([
        'Depth edges',
        'Multi-view inconsistency',
        'Statistical outliers',
      ]);
      const before = (await editState()).keptCount;
      await page.getByTestId('filter-slider').fill('10');
      await expect
        .poll(() => page.getByTestId('cloud-status').getAttribute('data-previewing'), { timeout: 30_000 })
        .toBe('true');
      const previewKept = await shown();
      expect(previewKept).toBeLessThan(before);
      await page.getByTestId('filter-apply').click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(4);
      expect((await editState()).keptCount).toBe(previewKept);
    });

    it('exports a binary PLY with exactly the kept points', async () => {
      const { keptCount } = await editState();
      const bytes = await exportFromMenu('ply-binary');
      const headerEnd = bytes.indexOf('end_header\n') + 'end_header\n'.length;
      const header = bytes.subarray(0, headerEnd).toString('latin1');
      expect(header).toMatch(/^ply\nformat binary_little_endian 1\.0\n/);
      const count = Number(/element vertex (\d+)/.exec(header)?.[1]);
      expect(count).toBe(keptCount);
      // Float xyz and uchar rgb: the body is exactly that many records.
      const stride =
        (header.match(/property float /g) ?? []).length * 4 + (header.match(/property uchar /g) ?? []).length;
      expect(bytes.length - headerEnd).toBe(count * stride);
      openCvPly = bytes;
    });

    it('offers the PLY up axis (OpenCV by default), names GLB as y-up, and says how long the file is kept', async () => {
      await page.getByTestId('export-button').click();
      const upAxis = page.getByTestId('export-up-axis');
      expect(await upAxis.inputValue()).toBe('opencv');
      expect(await upAxis.locator('option').allTextContents()).toEqual([
        'OpenCV, y down — default',
        'y up (MeshLab, three.js)',
        'z up (Blender, CloudCompare)',
      ]);
      expect(await page.getByTestId('export-glb').textContent()).toBe('GLB (points + cameras, y-up)');
      expect(await page.getByTestId('export-lifetime').textContent()).toBe(EXPORT_LIFETIME_NOTE);
      await screenshot(page, 'export-02-menu-up-axis');

      await upAxis.selectOption('z-up');
      const zUp = plyPoints(await downloadEntry('ply-binary'));
      const openCv = plyPoints(openCvPly);
      expect(zUp).toHaveLength(openCv.length);
      // z-up is a rotation of OpenCV axes: x stays, y is the old z (forward), z is the old -y (up).
      // (+ 0: a zero negated is -0, which toEqual tells from 0.)
      const plusZero = (points: number[][]) => points.map((p) => p.map((v) => v + 0));
      expect(plusZero(zUp)).toEqual(plusZero(openCv.map(([x, y, z]) => [x, z, -y])));

      // Both PLY exports ran as jobs and are listed in Jobs as done.
      const exportJobs = page.locator('[data-testid=job][data-kind=export]');
      await expect.poll(() => exportJobs.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const jobs = await api<JobInfo[]>('jobs.list', { sceneId: scene.id });
      const plyJobs = jobs.filter((job) => job.kind === 'export' && job.title === 'Export export me (PLY)');
      expect(plyJobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
      expect(await page.locator('[data-testid=job][data-kind=export][data-status=succeeded]').count()).toBe(
        plyJobs.length,
      );
    });

    it('exports a COLMAP text model of the visible frames with their poses', async () => {
      const { keptCount } = await editState();
      const zip = zipEntries(new Uint8Array(await exportFromMenu('colmap')));
      const cameras = strFromU8(zip.find('sparse/0/cameras.txt'));
      const images = strFromU8(zip.find('sparse/0/images.txt'));
      const points = strFromU8(zip.find('sparse/0/points3D.txt'));
      const dataLines = (text: string) =>
        text.split('\n').filter((line) => line.trim() && !line.startsWith('#'));

      expect(dataLines(cameras).length).toBeGreaterThanOrEqual(1);
      expect(dataLines(points)).toHaveLength(keptCount);
      const visible = scene.cameras.filter((camera) => camera.frameIndex !== hiddenCamera.frameIndex);
      const imageLines = dataLines(images);
      expect(imageLines).toHaveLength(visible.length);
      for (const line of imageLines) {
        const fields = line.trim().split(/\s+/);
        const pose = worldFromColmapPose(fields.slice(1, 5).map(Number), fields.slice(5, 8).map(Number));
        const match = visible.find((camera) => maxDifference(camera.worldFromCamera, pose) < 1e-4);
        expect(match, `image ${fields[9]} matches a visible camera`).toBeDefined();
        expect(maxDifference(hiddenCamera.worldFromCamera, pose)).toBeGreaterThan(1e-4);
        zip.find(`images/${fields[9]}`);
      }
    });

    it('exports nerfstudio transforms.json with the same frames', async () => {
      const zip = zipEntries(new Uint8Array(await exportFromMenu('nerfstudio')));
      const transforms = JSON.parse(strFromU8(zip.find('transforms.json'))) as {
        frames: Array<{ file_path: string; transform_matrix: number[][] }>;
      };
      expect(transforms.frames).toHaveLength(scene.cameras.length - 1);
      for (const frame of transforms.frames) zip.find(frame.file_path);
    });

    it('shows a waiting export with its stage in words, and Cancel stops it with no file and no download', async () => {
      let downloads = 0;
      const countDownload = () => downloads++;
      page.on('download', countDownload);
      // A long export started elsewhere (the CLI, another tab) runs first; the menu's export waits behind it.
      const busy = await api<{ jobId: string }>('scenes.export', {
        sceneId: bigSceneId,
        format: 'ply',
        encoding: 'ascii',
      });
      await page.getByTestId('export-button').click();
      await page.getByTestId('export-ply-binary').click();
      await page.getByTestId('export-progress').waitFor();
      expect(await page.getByTestId('export-stage').textContent()).toMatch(
        /^Exporting · Waiting for the jobs before it \d+%$/,
      );
      // Jobs shows the running export's stage in words, not its id.
      const runningStage = page.locator('[data-testid=job][data-status=running] [data-testid=job-stage]');
      await expect
        .poll(() => runningStage.first().textContent(), { timeout: 20_000 })
        .toMatch(/^(Applying edits|Writing the file)\d+%$/);
      await screenshot(page, 'export-03-waiting');

      await page.getByTestId('export-cancel').click();
      await page.getByTestId('export-button').waitFor();
      await api('jobs.cancel', { jobId: busy.jobId });
      expect((await waitForJobOver(studio, busy.jobId)).status).toBe('cancelled');
      const jobs = await api<JobInfo[]>('jobs.list', { sceneId: scene.id });
      expect(jobs.filter((job) => job.status === 'cancelled').map((job) => job.title)).toEqual([
        'Export export me (PLY)',
      ]);
      expect(exportCopies()).toEqual([]);
      await new Promise((done) => setTimeout(done, 1000));
      expect(downloads).toBe(0);
      page.off('download', countDownload);
    });

    it('ran without console errors or CSP violations', () => {
      expect(problems).toEqual([]);
    });
  },
);
