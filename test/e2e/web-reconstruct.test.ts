// Reconstruct from the UI with a real converted model (the tiny random-weight
// G2VLM golden checkpoint, converted by the CLI), live progress in the Jobs
// panel, camera frustums in the viewer, and Cancel leaving the old result.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, SceneSummary } from '../../main/common/domain';
import {
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  repoRoot,
  screenshot,
  startStudio,
  type StudioUnderTest,
  callApi,
  waitForJobOver,
} from './harness';
import { SHARED_DIR } from '../support/shared-dir';

const TINY_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const VIDEO = `${SHARED_DIR}/samples/video/arkit-portrait.mov`;
const skipReason =
  missingPrerequisites() ??
  (existsSync(TINY_CHECKPOINT) ? null : `no golden checkpoint at ${TINY_CHECKPOINT}`);

describe.skipIf(skipReason !== null)(
  `reconstruct from the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let scratch: string;
    let sceneId: string;
    let modelDir: string;

    const api = <T>(name: string, input: unknown): Promise<T> => callApi<T>(studio, name, input);
    const waitForJob = (jobId: string): Promise<JobInfo> => waitForJobOver(studio, jobId);
    /** The canvas as raw RGB(A) pixels. */
    const canvasPixels = async () => {
      const png = await page.locator('[data-testid=scene-view] canvas').screenshot();
      return sharp(png).raw().toBuffer({ resolveWithObject: true });
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-model-'));
      studio = await startStudio();
      // The model as a user gets it: converted by the CLI (registered in the UI below).
      modelDir = join(scratch, 'tiny-model');
      await promisify(execFile)(
        process.execPath,
        [join(repoRoot, 'out/main/cli.js'), 'model', 'convert', TINY_CHECKPOINT, '--out', modelDir],
        { cwd: repoRoot },
      );
      // Few frames keep the cloud small enough for software WebGL.
      const { jobId } = await api<{ jobId: string }>('scenes.import', {
        sources: [{ kind: 'path', path: VIDEO }],
        frames: 3,
        name: 'tiny recon',
      });
      const imported = await waitForJob(jobId);
      expect(imported.status, imported.error?.message).toBe('succeeded');
      sceneId = (await api<SceneSummary[]>('scenes.list', {})).find(
        (scene) => scene.name === 'tiny recon',
      )!.id;

      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      problems = collectPageProblems(page);
      await page.goto(studio.url);
      await page.getByTestId('library').waitFor();
    });

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('registers the converted model in the Models dialog, with a readable error for a wrong folder', async () => {
      await page.locator(`[data-scene-id=${sceneId}]`).getByTestId('scene-open').click();
      expect(await page.getByTestId('reconstruct-button').isDisabled()).toBe(true);
      await page.getByTestId('models-button').click();
      const dialog = page.getByTestId('models-dialog');
      await dialog.waitFor();
      await dialog.getByTestId('model-path').fill(join(scratch, 'no-such-model'));
      await dialog.getByTestId('model-register').click();
      const error = dialog.getByTestId('model-error');
      await error.waitFor();
      expect(await error.locator('strong').textContent()).toContain('no-such-model');
      expect((await error.locator('span').textContent())?.length).toBeGreaterThan(10);
      await dialog.getByTestId('model-path').fill(modelDir);
      await dialog.getByTestId('model-register').click();
      await expect.poll(() => dialog.getByTestId('model-row').count(), { timeout: 20_000 }).toBe(1);
      expect(await dialog.getByTestId('model-error').count()).toBe(0);
      await screenshot(page, '09-models-dialog');
      await dialog.getByTestId('models-close').click();
    });

    it('reconstructs with live progress and shows the cameras as frustums', async () => {
      const button = page.getByTestId('reconstruct-button');
      await expect.poll(() => button.isEnabled(), { timeout: 20_000 }).toBe(true);
      expect(await button.getAttribute('title')).toMatch(/^Reconstruct with /);
      await button.click();

      // Live progress: a stage name and a percentage while the job runs.
      const running = page.locator('[data-testid=job][data-kind=reconstruct][data-status=running]');
      const failed = page.locator('[data-testid=job][data-kind=reconstruct][data-status=failed]');
      await Promise.race([
        running.getByTestId('job-stage').waitFor({ timeout: 60_000 }),
        failed.waitFor({ timeout: 60_000 }).then(async () => {
          throw new Error(
            `The reconstruction failed: ${await failed.getByTestId('job-error').textContent()}`,
          );
        }),
      ]);
      expect(await running.getByTestId('job-stage').textContent()).toMatch(/[a-z].*\d+%$/);
      // Stages in words, with the time the job has taken.
      expect(await running.getByTestId('job-stage').getAttribute('data-stage')).not.toBe(
        await running.getByTestId('job-stage').locator('span').first().textContent(),
      );
      expect(await running.getByTestId('job-time').textContent()).toMatch(/elapsed/);
      // The model's first run here: no measured stage rates, so the bar moves on a guess and
      // the panel says it is estimating instead of promising a time.
      await expect
        .poll(() => running.getByTestId('job-eta').textContent(), { timeout: 60_000 })
        .toBe('estimating time left');
      expect(await running.getByTestId('job-eta').getAttribute('data-estimate')).toBe('estimating');
      // One reconstruction per scene at a time: the button waits for this one.
      expect(await button.isDisabled()).toBe(true);
      expect(await button.textContent()).toMatch(/^Reconstructing… \d+%$/);
      await screenshot(page, '10-reconstruct-progress');

      const finished = page.locator('[data-testid=job][data-kind=reconstruct][data-status=succeeded]');
      await finished.waitFor({ timeout: 300_000 });
      await expect
        .poll(() => page.getByTestId('scene-title').textContent(), { timeout: 20_000 })
        .toBe('tiny recon');
      await expect
        .poll(() => page.getByTestId('cloud-status').getAttribute('data-status'), { timeout: 60_000 })
        .toBe('ready');
      const header = await page.locator('.scene-view .view-header .muted').textContent();
      const cameras = Number(/(\d+) cameras/.exec(header ?? '')?.[1]);
      expect(cameras).toBeGreaterThanOrEqual(2);

      // The frustums are drawn: hiding them changes the picture. (Random weights scatter
      // points around the cameras; the smallest point size keeps the frustums visible.)
      await page.getByTestId('point-size').fill('1');
      await page.getByTestId('fit-button').click();
      await page.waitForTimeout(2000);
      const frustumBlue = async () => {
        // Pixels of the frustum outline colour (#5cc8ff), below the toolbar that overlays the canvas.
        const { data, info } = await canvasPixels();
        let count = 0;
        for (let y = 80; y < info.height; y++)
          for (let x = 0; x < info.width; x++) {
            const i = (y * info.width + x) * info.channels;
            if (data[i] < 140 && data[i + 1] > 150 && data[i + 2] > 200) count++;
          }
        return count;
      };
      const withCameras = await frustumBlue();
      await screenshot(page, '11-reconstructed-scene');
      await page.getByLabel('Cameras').uncheck();
      await page.waitForTimeout(2000);
      const withoutCameras = await frustumBlue();
      expect(withCameras).toBeGreaterThan(withoutCameras + 100);
      await page.getByLabel('Cameras').check();
    });

    it('cancels a running reconstruction and keeps the previous result', async () => {
      const before = (await api<SceneSummary[]>('scenes.list', {})).find((scene) => scene.id === sceneId)!;
      expect(before.pointCount).toBeGreaterThan(0);
      await page.getByTestId('reconstruct-button').click();
      const running = page.locator('[data-testid=job][data-kind=reconstruct][data-status=running]');
      await running.getByTestId('job-cancel').click({ timeout: 60_000 });
      await page
        .locator('[data-testid=job][data-kind=reconstruct][data-status=cancelled]')
        .waitFor({ timeout: 60_000 });
      const after = (await api<SceneSummary[]>('scenes.list', {})).find((scene) => scene.id === sceneId)!;
      expect(after.pointCount).toBe(before.pointCount);
      expect(after.hasCameras).toBe(true);
      await screenshot(page, '12-reconstruct-cancelled');
    });

    it('ran without console errors or CSP violations', () => {
      // The 400s are the wrong model folder typed on purpose above: registering it (the dialog
      // showed the error) and the precision figures asked for that folder (left out, as for any
      // half-typed path).
      expect(problems.filter((text) => !text.includes('status of 400 (Bad Request)'))).toEqual([]);
      expect(problems.length).toBeLessThanOrEqual(2);
    });
  },
);
