// Choosing the frames a reconstruction uses, in the browser against the real
// built server: a reconstructed scene (stored the way a reconstruction stores
// it) shows which frames its 3D was made from; clicking a thumbnail (or Space
// on it) deselects and selects it, and the hint says when the 3D is out of
// date; a video imported by real ffmpeg is re-selected with a new count. Every
// step is checked against the server's state (scenes.get).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, SceneDetail } from '../../main/common/domain';
import { Library } from '../../main/core/library/library';
import { createStudio } from '../../main/core/studio';
import { SHARED_DIR } from '../support/shared-dir';
import { reconstructedFloorScene } from '../support/reconstructed-scene';
import {
  callApi,
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  screenshot,
  startStudio,
  type StudioUnderTest,
} from './harness';

const WALK = join(SHARED_DIR, 'samples', 'video', 'dl3dv-walk.mp4');
const skipReason = missingPrerequisites();

describe.skipIf(skipReason !== null)(
  `choosing frames in the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let scratch: string;
    let floorId: string;
    let walkId: string;
    let libraryPath: string;

    const sceneOnServer = (sceneId: string) => callApi<SceneDetail>(studio, 'scenes.get', { sceneId });
    const selectedOnServer = async (sceneId: string) =>
      (await sceneOnServer(sceneId)).frames.filter((f) => f.selected).map((f) => f.id);
    const thumb = (frameId: string) => page.locator(`[data-testid=frame-thumb][data-frame-id=${frameId}]`);
    const selectedInUi = () =>
      page
        .locator('[data-testid=frame-thumb][data-selected=true]')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-frame-id')));
    const openScene = async (sceneId: string) => {
      await page.goto(studio.url);
      await page.locator(`[data-scene-id=${sceneId}]`).getByTestId('scene-open').click();
      await page.getByTestId('frame-strip').waitFor();
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-frames-'));
      libraryPath = join(scratch, 'library');
      // A video imported by real ffmpeg (5 of 15 candidates selected), then a reconstructed scene.
      const core = await createStudio({ libraryPath, mode: 'cli' });
      try {
        const { jobId } = await core.run('scenes.import', {
          sources: [{ kind: 'path', path: WALK }],
          frames: 5,
        });
        const job = await core.waitForJob(jobId);
        expect(job.status, job.message).toBe('succeeded');
        walkId = String(job.result?.sceneId);
      } finally {
        await core.close();
      }
      const library = Library.open(libraryPath);
      floorId = await reconstructedFloorScene(library, 'Floor');
      library.close();

      studio = await startStudio({ library: libraryPath });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      problems = collectPageProblems(page);
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('shows which frames the 3D was made from; clicking a frame deselects it and the 3D is out of date', async () => {
      const before = await sceneOnServer(floorId);
      const ids = before.frames.map((f) => f.id);
      expect(before.reconstruction?.usedFrameIds).toEqual(ids);
      await openScene(floorId);
      await expect.poll(() => page.locator('[data-testid=frame-thumb][data-used=true]').count()).toBe(3);
      expect(await selectedInUi()).toEqual(ids);
      await page.getByTestId('selection-up-to-date').waitFor();
      expect(await thumb(ids[1]).getAttribute('aria-label')).toBe('Frame 1: selected, used by the 3D');

      // A selection change refetches the scene's details, never its point cloud or edits.
      const cloudRequests: string[] = [];
      const onRequest = (request: { url(): string }) => {
        if (/\/blobs\/scenes\/.*\/(points\.f32|colors\.u8|edits\/)/.test(request.url()))
          cloudRequests.push(request.url());
      };
      page.on('request', onRequest);
      try {
        await thumb(ids[1]).click();
        await expect.poll(() => thumb(ids[1]).getAttribute('data-selected')).toBe('false');
        await page.waitForTimeout(500);
      } finally {
        page.off('request', onRequest);
      }
      expect(cloudRequests).toEqual([]);
      expect(await selectedOnServer(floorId)).toEqual([ids[0], ids[2]]);
      // The 3D still shows what it was made from, and says the selection has moved on.
      expect(await thumb(ids[1]).getAttribute('data-used')).toBe('true');
      expect((await sceneOnServer(floorId)).reconstruction?.usedFrameIds).toEqual(ids);
      const hint = page.getByTestId('selection-out-of-date');
      await hint.waitFor();
      expect(await hint.textContent()).toMatch(/made from 3 frames.*\(0 added, 1 removed\)/);
      expect(await page.getByTestId('selected-frame-count').getAttribute('data-count')).toBe('2');
      expect(await thumb(ids[1]).getAttribute('aria-label')).toBe('Frame 1: not selected, used by the 3D');
      await screenshot(page, 'frames-01-deselected');

      // Keyboard: arrows move between frames, Space selects the focused one again.
      await thumb(ids[0]).focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-frame-id'))).toBe(ids[1]);
      await page.keyboard.press('Space');
      await expect.poll(() => thumb(ids[1]).getAttribute('data-selected')).toBe('true');
      expect(await selectedOnServer(floorId)).toEqual(ids);
      await page.getByTestId('selection-up-to-date').waitFor();
      expect(await hint.count()).toBe(0);
    });

    it('while a reconstruction of the scene runs (here: in another process), its frames cannot change', async () => {
      // Another process on the same library (a CLI, say) runs a reconstruction of the scene.
      const other = Library.open(libraryPath, {
        jobOwner: { pid: process.pid, instance: 'e2e-other-process' },
      });
      const job: JobInfo = {
        id: 'job_e2e_reconstruct',
        kind: 'reconstruct',
        title: 'Reconstruct Floor',
        sceneId: floorId,
        status: 'running',
        progress: 0.4,
        stage: 'dino',
        message: '',
        error: null,
        createdAt: new Date().toISOString(),
        finishedAt: null,
        result: null,
      };
      other.jobs.save(job);
      try {
        const ids = (await sceneOnServer(floorId)).frames.map((f) => f.id);
        await openScene(floorId);
        const first = thumb(ids[0]);
        await expect.poll(() => first.getAttribute('aria-disabled')).toBe('true');
        expect(await first.getAttribute('title')).toContain('A reconstruction of this scene is running');
        expect(await page.getByTestId('reselect-button').isDisabled()).toBe(true);
        // Playwright treats aria-disabled as disabled: click it as a user would anyway.
        await first.click({ force: true });
        await page.waitForTimeout(500);
        expect(await first.getAttribute('data-selected')).toBe('true');
        expect(await page.getByTestId('error-banner').count()).toBe(0);
        // The server refuses too, whoever asks.
        await expect(
          callApi(studio, 'scenes.selectFrames', { sceneId: floorId, frameIds: [ids[0]], selected: false }),
        ).rejects.toThrow(/A reconstruction of "Floor" is running \(job job_e2e_reconstruct\)/);
        expect(await selectedOnServer(floorId)).toEqual(ids);
        await screenshot(page, 'frames-03-locked');
      } finally {
        other.jobs.save({ ...job, status: 'cancelled', finishedAt: new Date().toISOString() });
        other.close();
      }
    });

    it('re-selects a video scene with a new frame count', async () => {
      await openScene(walkId);
      await expect.poll(() => page.getByTestId('frame-thumb').count()).toBe(15);
      expect(await page.getByTestId('selected-frame-count').getAttribute('data-count')).toBe('5');
      const count = page.getByTestId('reselect-count');
      expect(await count.inputValue()).toBe('5');
      // Out of range: the button says why it is off and nothing is sent.
      await count.fill('40');
      expect(await page.getByTestId('reselect-button').isDisabled()).toBe(true);
      await count.fill('8');
      await page.getByTestId('reselect-button').click();
      await expect.poll(() => page.getByTestId('selected-frame-count').getAttribute('data-count')).toBe('8');
      const onServer = await selectedOnServer(walkId);
      expect(onServer).toHaveLength(8);
      expect(await selectedInUi()).toEqual(onServer);
      // Not reconstructed: no frame is tagged as used, and no out-of-date hint.
      expect(await page.locator('[data-testid=frame-thumb][data-used=true]').count()).toBe(0);
      expect(await page.getByTestId('selection-out-of-date').count()).toBe(0);
      await screenshot(page, 'frames-02-reselected');

      // A frame picked by hand after the re-selection.
      const unselected = (await sceneOnServer(walkId)).frames.find((f) => !f.selected);
      if (!unselected) throw new Error('8 of 15 frames leave some unselected');
      await thumb(unselected.id).click();
      await expect.poll(() => page.getByTestId('selected-frame-count').getAttribute('data-count')).toBe('9');
      expect(await selectedOnServer(walkId)).toContain(unselected.id);
      expect(problems).toEqual([]);
    });
  },
);
