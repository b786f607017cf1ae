// Bring your own posed capture, through the web UI: "Import folder…" picks a
// COLMAP project and a transforms.json capture (the browser's folder picker,
// <input webkitdirectory>), and a folder dropped onto the window (a real
// drop through Chromium's input pipeline); the page sends only the files the import needs
// under their relative paths, the job log says what was found, and the scene
// holds the capture's frames, cameras (intrinsics and poses) and points, read
// back through the API and the points blob. A plain folder of photos imports
// as photos; a folder upload can be cancelled halfway and leaves nothing; a
// folder with nothing to import is refused with a typed error. The studio's
// assembled copies are gone after each import.

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPaths } from '../../main/common/api';
import type { JobInfo, SceneDetail, SceneSummary } from '../../main/common/domain';
import {
  writeColmapProject,
  writeTransformsCapture,
  type PosedFixture,
} from '../support/posed-capture-fixtures';
import {
  callApi,
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  screenshot,
  startStudio,
  type StudioUnderTest,
  waitForJobOver,
} from './harness';

const skipReason = missingPrerequisites();

describe.skipIf(skipReason !== null)(
  `posed captures imported from the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let scratch: string;
    let colmap: PosedFixture;
    let nerf: PosedFixture;
    /** Relative paths of the folder files the page sent, per folder upload. */
    const sent: string[] = [];

    const api = <T>(name: string, input: unknown): Promise<T> => callApi<T>(studio, name, input);
    const uploadsLeft = async () =>
      readdir(join(studio.workDir, 'library', 'uploads'), { recursive: true }).catch(() => []);
    const blob = async (path: string) => {
      const response = await fetch(`${studio.origin}${path}`, {
        headers: { Authorization: `Bearer ${studio.token}` },
      });
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    };

    const jobIds = async (): Promise<Set<string>> =>
      new Set((await api<JobInfo[]>('jobs.list', {})).map((job) => job.id));

    /** Waits for an import job that was not among `before`, and for it to end. */
    const newImportJobOver = async (before: Set<string>): Promise<JobInfo> => {
      let job: JobInfo | undefined;
      await expect
        .poll(
          async () => {
            job = (await api<JobInfo[]>('jobs.list', {})).find(
              (item) => item.kind === 'import' && !before.has(item.id),
            );
            return job !== undefined;
          },
          { timeout: 60_000 },
        )
        .toBe(true);
      return waitForJobOver(studio, job!.id);
    };

    /** Every import starts from the library, wherever an earlier test left the page. */
    const toLibrary = async () => {
      await page.getByTestId('nav-library').click();
      await page.getByTestId('import-folder-button').waitFor();
    };

    /** Picks `dir` with Import folder… and waits for the import job it starts. */
    const importFolderFromUi = async (dir: string): Promise<JobInfo> => {
      await toLibrary();
      const before = await jobIds();
      sent.length = 0;
      await page.getByTestId('import-folder-input').setInputFiles(dir);
      return newImportJobOver(before);
    };

    /** The scene an import made: its cameras and points match the capture's. */
    const expectSceneOf = async (job: JobInfo, fixture: PosedFixture, name: string) => {
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      const scene = await api<SceneDetail>('scenes.get', { sceneId: job.sceneId });
      expect(scene.name).toBe(name);
      const frames = fixture.input.frames;
      expect(scene.frames).toHaveLength(frames.length);
      expect(scene.cameras).toHaveLength(frames.length);
      frames.forEach((frame, i) => {
        const camera = scene.cameras.find((c) => c.frameIndex === i)!;
        const k = frame.camera.intrinsics!;
        const got = camera.intrinsics!;
        expect([got.fx, got.fy, got.cx, got.cy, got.width, got.height]).toEqual([
          k.fx,
          k.fy,
          k.cx,
          k.cy,
          k.width,
          k.height,
        ]);
        camera.worldFromCamera.forEach((v, j) => expect(v).toBeCloseTo(frame.camera.worldFromCamera[j], 5));
      });
      const lenses = new Set(scene.cameras.map((c) => JSON.stringify(c.intrinsics)));
      expect(lenses.size).toBe(fixture.cameraCount);
      // The stored cloud is the capture's, point for point.
      expect(scene.pointCount).toBe(fixture.input.points.count);
      const points = new Float32Array(new Uint8Array(await blob(blobPaths.points(scene.id))).buffer);
      expect(Array.from(points)).toEqual(Array.from(fixture.input.points.positions));
      const colors = await blob(blobPaths.colors(scene.id));
      expect(Array.from(colors)).toEqual(Array.from(fixture.input.points.colors!));
      // Only what the import needs went over the wire, and the studio's copy is gone.
      expect([...sent].sort()).toEqual([...fixture.needed].sort());
      expect(await uploadsLeft()).toEqual([]);
      return scene;
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-posed-'));
      colmap = await writeColmapProject(join(scratch, 'garden'));
      nerf = await writeTransformsCapture(join(scratch, 'living-room'));
      studio = await startStudio();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      problems = collectPageProblems(page);
      page.on('request', (request: Request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/upload/folder-file') sent.push(url.searchParams.get('path') ?? '');
      });
      await page.goto(studio.url);
      await page.getByTestId('library-empty').waitFor({ timeout: 20_000 });
    });

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('imports a COLMAP project folder with its frames, shared cameras and points', async () => {
      const job = await importFolderFromUi(colmap.dir);
      const scene = await expectSceneOf(job, colmap, 'garden');
      // The job log says what the folder held, in the Jobs panel.
      const found = 'COLMAP model (text, sparse/0): 4 images, 2 cameras, 300 points';
      expect(job.message).toContain(found);
      await expect
        .poll(() => page.getByTestId('job').filter({ hasText: 'Import garden' }).textContent(), {
          timeout: 10_000,
        })
        .toContain(found);
      await page.locator(`[data-scene-id=${scene.id}]`).waitFor();
      await screenshot(page, 'posed-00-colmap-imported');

      // The viewer opens it like a reconstruction: every point drawn, a frame cell per image.
      await page.locator(`[data-scene-id=${scene.id}]`).getByTestId('scene-open').click();
      await page.locator('[data-testid=cloud-status][data-status=ready]').waitFor({ timeout: 60_000 });
      // data-shown stays empty until the scene's edit stack has loaded, a moment after the points.
      await expect
        .poll(async () => Number(await page.getByTestId('cloud-status').getAttribute('data-shown')), {
          timeout: 20_000,
        })
        .toBe(300);
      expect(await page.getByTestId('frame-cell').count()).toBe(4);
      await screenshot(page, 'posed-01-colmap-viewer');
    });

    it('imports a transforms.json folder the same way', async () => {
      const job = await importFolderFromUi(nerf.dir);
      await expectSceneOf(job, nerf, 'living-room');
      expect(job.message).toContain('transforms.json: 3 images, 1 camera, 200 points');
    });

    it('imports a transforms.json folder dropped onto the window', async () => {
      // A real drop of a folder from the file manager, through Chromium's input pipeline (CDP):
      // the page sees a directory entry, as it does when a user drops one.
      await toLibrary();
      const before = await jobIds();
      sent.length = 0;
      const cdp = await page.context().newCDPSession(page);
      const data = { items: [], files: [nerf.dir], dragOperationsMask: 1 };
      for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
        await cdp.send('Input.dispatchDragEvent', { type, x: 400, y: 600, data });
      }
      const job = await newImportJobOver(before);
      await cdp.detach();
      await expectSceneOf(job, nerf, 'living-room');
    });

    it('imports a folder of plain photos as photos', async () => {
      const job = await importFolderFromUi(join(colmap.dir, 'images'));
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      const scene = await api<SceneDetail>('scenes.get', { sceneId: job.sceneId });
      expect(scene.name).toBe('images');
      expect(scene.frames).toHaveLength(4);
      expect(scene.cameras).toHaveLength(0);
      expect(await uploadsLeft()).toEqual([]);
    });

    it('shows the upload with its progress and cancels it, leaving nothing behind', async () => {
      const scenesBefore = (await api<SceneSummary[]>('scenes.list', {})).length;
      // Hold the third file at the network: the upload is visibly under way when Cancel is pressed.
      let held = 0;
      await page.route('**/api/upload/folder-file**', async (route) => {
        if (++held >= 3) await new Promise((done) => setTimeout(done, 60_000));
        await route.continue().catch(() => undefined);
      });
      await toLibrary();
      await page.getByTestId('import-folder-input').setInputFiles(colmap.dir);
      const status = page.getByTestId('folder-upload');
      await status.waitFor({ timeout: 20_000 });
      await expect
        .poll(() => page.getByTestId('folder-upload-text').textContent())
        .toContain('Uploading garden');
      expect(await page.getByTestId('folder-upload-text').textContent()).toContain(
        'COLMAP model (text, sparse/0) · 4 images',
      );
      await expect
        .poll(async () => Number(await status.getAttribute('data-sent')), { timeout: 20_000 })
        .toBeGreaterThan(0);
      expect(Number(await status.getAttribute('data-total'))).toBeGreaterThan(0);
      await screenshot(page, 'posed-02-uploading');
      await page.getByTestId('folder-upload-cancel').click();
      await expect.poll(() => status.count(), { timeout: 20_000 }).toBe(0);
      await page.unroute('**/api/upload/folder-file**');
      // Cancelling is not an error, no import started, and the partial folder is gone.
      expect(await page.getByTestId('error-banner').count()).toBe(0);
      await expect.poll(uploadsLeft, { timeout: 10_000 }).toEqual([]);
      expect((await api<SceneSummary[]>('scenes.list', {})).length).toBe(scenesBefore);
    });

    it('refuses a folder with nothing to import, with a plain message and a fix', async () => {
      const empty = join(scratch, 'notes');
      await mkdir(empty);
      await writeFile(join(empty, 'readme.txt'), 'no photos here');
      await toLibrary();
      await page.getByTestId('import-folder-input').setInputFiles(empty);
      const banner = page.getByTestId('error-banner');
      await banner.waitFor({ timeout: 20_000 });
      expect(await banner.getAttribute('data-code')).toBe('unsupported-file');
      expect(await page.getByTestId('error-message').textContent()).toContain(
        'holds no photos, COLMAP project or transforms.json',
      );
      expect(await uploadsLeft()).toEqual([]);
      expect(problems.filter((p) => !p.includes('Failed to load resource'))).toEqual([]);
    });
  },
);
