// The Models view in a real browser against the built studio, downloading from
// a real HTTP hub on 127.0.0.1 (test/support/hub-server.ts, reached through
// HF_ENDPOINT): progress with bytes, cancel, resume, the model listed as active,
// and the execution-provider panel explaining how to enable CUDA when it is missing.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRuntimeInfo } from '../../main/common/domain';
import { startFakeHub, type FakeHub } from '../support/hub-server';
import {
  callApi,
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  screenshot,
  startStudio,
  type StudioUnderTest,
} from './harness';

const skipReason = missingPrerequisites();

describe.skipIf(skipReason !== null)(
  `web Models view${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let hub: FakeHub;
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let savedEndpoint: string | undefined;

    beforeAll(async () => {
      hub = await startFakeHub();
      // The studio process inherits the environment: its downloads go to the hub on 127.0.0.1.
      savedEndpoint = process.env.HF_ENDPOINT;
      process.env.HF_ENDPOINT = hub.url;
      studio = await startStudio();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      problems = collectPageProblems(page);
      await page.goto(studio.url);
    });

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      await hub?.close();
      if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = savedEndpoint;
    });

    it('tells a new user on the first screen that a model is needed, what it costs, and how to get it', async () => {
      const card = page.getByTestId('model-setup-card');
      await card.waitFor({ timeout: 20_000 });
      expect(await card.getByTestId('model-setup-sizes').textContent()).toMatch(
        /Download: about [\d.]+ GB.*Disk/,
      );
      expect(await card.getByTestId('setup-download').isEnabled()).toBe(true);
      await card.getByTestId('setup-import').click();
      await page.getByTestId('models-dialog').waitFor();
      await page.getByTestId('models-dialog').getByTestId('models-close').click();
      await screenshot(page, 'models-00-setup-card');
    });

    it('shows no model yet, the CPU, and why CUDA is missing with how to enable it', async () => {
      await page.getByTestId('models-button').click();
      const dialog = page.getByTestId('models-dialog');
      await dialog.getByTestId('models-empty').waitFor({ timeout: 20_000 });
      const cpu = dialog.getByTestId('provider-cpu');
      await cpu.waitFor();
      expect(await cpu.getAttribute('data-available')).toBe('true');
      expect(await cpu.getByTestId('provider-device').textContent()).toMatch(/GiB/);
      const runtime = await callApi<ModelRuntimeInfo>(studio, 'models.runtime', {});
      const cuda = dialog.getByTestId('provider-cuda');
      if (runtime.providers.find((p) => p.name === 'cuda')?.available) {
        expect(await cuda.getAttribute('data-available')).toBe('true');
      } else {
        expect(await cuda.getAttribute('data-available')).toBe('false');
        const reason = await cuda.getByTestId('provider-reason').textContent();
        expect(reason).toMatch(/npm run install-cuda/);
        expect(reason).toMatch(/CUDA 12/);
      }
      expect(await dialog.getByTestId('active-precision').textContent()).toBe('no active model');
      // Before anything is downloaded: each precision's cost for the official model, and auto's pick here.
      await expect
        .poll(() => dialog.getByTestId('model-precision-advice').textContent())
        .toMatch(
          /^For G2VLM-2B-MoT \(official\), with [\d.]+ GiB of free memory: auto picks (fp32|int8|int4): /,
        );
      const choices = await dialog.getByTestId('model-precision-choice').locator('option').allTextContents();
      expect(choices).toHaveLength(5);
      expect(choices[0]).toMatch(/^auto \((fp32|int8|int4) here\)$/);
      expect(choices[3]).toMatch(/^int8: [\d.]+ GiB on disk, [\d.]+ GiB for 8 frames/);
      expect(await dialog.getByTestId('model-precision-choice').inputValue()).toBe('auto');
      await screenshot(page, 'models-01-empty');
    });

    it('downloads from the hub with progress in bytes, cancels, resumes, and lists the model as active', async () => {
      const dialog = page.getByTestId('models-dialog');
      expect(await dialog.getByTestId('model-repo').inputValue()).toBe('InternRobotics/G2VLM-2B-MoT');
      expect(await dialog.getByTestId('model-revision').inputValue()).toBe('main');
      // Slow enough to watch: about 10 s for the tiny checkpoint.
      hub.behaviour.bytesPerSecond = 2 * 2 ** 20;
      await dialog.getByTestId('model-repo').fill(hub.repo);
      await dialog.getByTestId('model-download').click();

      const job = dialog.getByTestId('model-job');
      const message = dialog.getByTestId('model-job-message');
      await expect
        .poll(() => message.textContent(), { timeout: 30_000 })
        .toMatch(/^Downloading model\.safetensors: [\d.]+ MiB of [\d.]+ MiB$/);
      expect(await job.getAttribute('data-stage')).toBe('download');
      expect(await dialog.getByTestId('model-job-stage').textContent()).toBe('Downloading');
      const bar = dialog.getByRole('progressbar');
      await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(10);
      await screenshot(page, 'models-02-downloading');

      await dialog.getByTestId('model-job-cancel').click();
      await expect.poll(() => job.getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
      expect(await message.textContent()).toMatch(/Download again resumes where it stopped/);

      hub.behaviour.bytesPerSecond = 8 * 2 ** 20;
      hub.log.length = 0;
      await dialog.getByTestId('model-download').click();
      await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('succeeded');
      // The second run asked only for the rest of the weights.
      const ranged = hub.log.filter((r) => r.path.startsWith('/cdn/') && r.range);
      expect(ranged).toHaveLength(1);
      expect(Number(/bytes=(\d+)-/.exec(ranged[0].range!)![1])).toBeGreaterThan(0);

      const row = dialog.locator('[data-testid=model-row][data-active=true]');
      await row.waitFor({ timeout: 20_000 });
      expect(await row.locator('strong').textContent()).toBe('tiny-g2');
      expect(await row.getByTestId('model-active').isVisible()).toBe(true);
      expect(await row.getByTestId('model-precision').textContent()).toBe('fp32');
      await expect.poll(() => dialog.getByTestId('active-precision').textContent()).toBe('fp32');
      // The jobs panel has the download too.
      await expect
        .poll(() => page.locator('[data-testid=job][data-kind=download][data-status=succeeded]').count())
        .toBe(1);
      await screenshot(page, 'models-03-installed');
      // With a model installed, the first-run card is gone.
      await expect.poll(() => page.getByTestId('model-setup-card').count(), { timeout: 20_000 }).toBe(0);
    });

    it('removes the model after a confirmation', async () => {
      const dialog = page.getByTestId('models-dialog');
      await dialog.getByTestId('model-remove').click();
      await page.getByTestId('confirm-ok').click();
      await dialog.getByTestId('models-empty').waitFor({ timeout: 20_000 });
      expect(await callApi<unknown[]>(studio, 'models.list', {})).toEqual([]);
      await dialog.getByTestId('models-close').click();
      await expect.poll(() => page.getByTestId('model-setup-card').count(), { timeout: 20_000 }).toBe(1);
      expect(problems).toEqual([]);
    });
  },
);
