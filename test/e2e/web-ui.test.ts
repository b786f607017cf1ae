// The studio in a real browser (Chromium, WebGL on SwiftShader) against the real
// built server and core: import through the UI, see the result, export.

import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plyBytes, rgbCubes, writeRgbCubesPly } from './fixtures';
import {
  callApi,
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  sceneCanvasRgb,
  screenshot,
  startStudio,
  type StudioUnderTest,
} from './harness';
import { SHARED_DIR } from '../support/shared-dir';

const PORTRAIT_VIDEO = `${SHARED_DIR}/samples/video/arkit-portrait.mov`;
const PHOTO_FOLDER = `${SHARED_DIR}/samples/arkitscenes`;
const skipReason = missingPrerequisites();

// gltf-validator ships without type declarations: loaded with require and typed here.
const requireModule = createRequire(__filename);
interface ValidatorReport {
  issues: { numErrors: number; messages: Array<{ code: string; message: string; severity: number }> };
  info?: { totalVertexCount?: number; drawCallCount?: number };
}

describe.skipIf(skipReason !== null)(`web UI${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let studio: StudioUnderTest;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-files-'));
    studio = await startStudio();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    problems = collectPageProblems(page);
    await page.goto(studio.url);
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('drops the token from the address bar after the first load and shows an empty library', async () => {
    expect(page.url()).toBe(`${studio.origin}/`);
    await expect.poll(() => page.getByTestId('library-empty').isVisible(), { timeout: 20_000 }).toBe(true);
    await screenshot(page, '01-empty-library');
  });

  it('imports a portrait phone video from the file picker and shows portrait thumbnails', async () => {
    await page.getByTestId('import-input').setInputFiles(PORTRAIT_VIDEO);
    const card = page.locator('[data-testid=scene-card][data-kind=video]');
    await card.waitFor({ timeout: 120_000 });
    const thumb = card.getByTestId('scene-thumb');
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), {
        timeout: 30_000,
      })
      .toBe(true);
    const size = await thumb.evaluate((img: HTMLImageElement) => ({
      w: img.naturalWidth,
      h: img.naturalHeight,
    }));
    expect(size.w).toBeLessThan(size.h);
    await expect
      .poll(() => page.locator('[data-testid=job][data-status=succeeded]').count(), { timeout: 60_000 })
      .toBeGreaterThan(0);
    await screenshot(page, '02-library-with-video');

    await card.getByTestId('scene-open').click();
    await page.getByTestId('frame-strip').waitFor();
    const frames = page.getByTestId('frame-thumb');
    expect(await frames.count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid=frame-thumb][data-selected=true]').count()).toBeGreaterThan(0);
    const firstFrame = frames.first().locator('img');
    await expect
      .poll(() => firstFrame.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), {
        timeout: 20_000,
      })
      .toBe(true);
    const frameSize = await firstFrame.evaluate((img: HTMLImageElement) => ({
      w: img.naturalWidth,
      h: img.naturalHeight,
    }));
    expect(frameSize.w).toBeLessThan(frameSize.h);
    // No reconstruction model in a fresh library: the button says why it is disabled.
    const reconstruct = page.getByTestId('reconstruct-button');
    await expect
      .poll(() => reconstruct.getAttribute('title'), { timeout: 20_000 })
      .toContain('No model is registered');
    expect(await reconstruct.isDisabled()).toBe(true);
    await screenshot(page, '03-video-scene');
    await page.getByTestId('scene-back').click();
  });

  it('imports photos picked together as one photo scene', async () => {
    const photos = readdirSync(PHOTO_FOLDER)
      .filter((name) => name.endsWith('.jpg'))
      .slice(0, 6)
      .map((name) => join(PHOTO_FOLDER, name));
    await page.getByTestId('import-input').setInputFiles(photos);
    const card = page.locator('[data-testid=scene-card][data-kind=photos]');
    await card.waitFor({ timeout: 120_000 });
    await expect.poll(() => card.textContent(), { timeout: 20_000 }).toContain(`${photos.length} frames`);
    await card.getByTestId('scene-open').click();
    await expect.poll(() => page.getByTestId('frame-thumb').count(), { timeout: 20_000 }).toBe(photos.length);
    await page.getByTestId('scene-back').click();
    await card.getByTestId('scene-delete').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(0);
  });

  it('opens a scene by clicking its name', async () => {
    const card = page.locator('[data-testid=scene-card][data-kind=video]').first();
    await card.getByTestId('scene-name').click();
    await expect
      .poll(() => page.evaluate(() => window.location.hash), { timeout: 10_000 })
      .toMatch(/^#\/scene\//);
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library').waitFor();
  });

  it('renames a scene inline and deletes it after confirming', async () => {
    const card = page.locator('[data-testid=scene-card][data-kind=video]');
    await card.getByTestId('scene-rename').click();
    const input = card.getByTestId('rename-input');
    await input.fill('Living room walk');
    await input.press('Enter');
    await expect
      .poll(() => card.getByTestId('scene-name').textContent(), { timeout: 20_000 })
      .toBe('Living room walk');
    // The name is stored, not just shown: a reload reads it back from the library.
    await page.reload();
    await expect
      .poll(() => page.getByTestId('scene-name').first().textContent(), { timeout: 20_000 })
      .toBe('Living room walk');

    await page.locator('[data-testid=scene-card][data-kind=video]').getByTestId('scene-delete').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await screenshot(page, '04-delete-confirmation');
    await page.getByTestId('confirm-cancel').click();
    expect(await page.locator('[data-testid=scene-card][data-kind=video]').count()).toBe(1);
    await page.locator('[data-testid=scene-card][data-kind=video]').getByTestId('scene-delete').click();
    await page.getByTestId('confirm-ok').click();
    await expect
      .poll(() => page.locator('[data-testid=scene-card][data-kind=video]').count(), { timeout: 20_000 })
      .toBe(0);
    await page.reload();
    await page.getByTestId('library').waitFor();
    expect(await page.locator('[data-testid=scene-card][data-kind=video]').count()).toBe(0);
  });

  it('imports a coloured PLY and draws its red, green and blue points in the right places', async () => {
    const plyPath = join(scratch, 'rgb-cubes.ply');
    const cloud = await writeRgbCubesPly(plyPath, 12, 0.5);
    await page.getByTestId('import-input').setInputFiles(plyPath);
    const card = page.locator('[data-testid=scene-card][data-kind=pointcloud]');
    await card.waitFor({ timeout: 60_000 });
    // The Jobs panel ends with the import finished, not stuck at its last progress update.
    const importJob = page.locator('[data-testid=job][data-kind=import]', { hasText: 'rgb-cubes' });
    await expect.poll(() => importJob.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    await card.getByTestId('scene-open').click();
    await expect
      .poll(() => page.getByTestId('cloud-status').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('ready');
    expect(await page.getByTestId('cloud-status').textContent()).toContain(
      (cloud.positions.length / 3).toLocaleString('en-US'),
    );
    await page.getByTestId('point-size').fill('6');
    await page.getByTestId('fit-button').click();
    await page.waitForTimeout(1500); // SwiftShader renders on demand, a frame can take a while

    const canvas = page.locator('[data-testid=scene-view] canvas');
    const png = await canvas.screenshot();
    await screenshot(page, '05-point-cloud');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const stats = { red: { n: 0, x: 0, y: 0 }, green: { n: 0, x: 0, y: 0 }, blue: { n: 0, x: 0, y: 0 } };
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const i = (y * info.width + x) * info.channels;
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        const key =
          r > 200 && g < 60 && b < 60
            ? 'red'
            : g > 200 && r < 60 && b < 60
              ? 'green'
              : b > 200 && r < 60 && g < 60
                ? 'blue'
                : null;
        if (!key) continue;
        stats[key].n++;
        stats[key].x += x;
        stats[key].y += y;
      }
    }
    for (const key of ['red', 'green', 'blue'] as const) {
      expect(stats[key].n, `${key} pixels`).toBeGreaterThan(500);
      stats[key].x /= stats[key].n;
      stats[key].y /= stats[key].n;
    }
    // OpenCV x right stays right: red, green, blue from left to right.
    expect(stats.red.x).toBeLessThan(stats.green.x);
    expect(stats.green.x).toBeLessThan(stats.blue.x);
    // OpenCV y down becomes three.js y up: the raised (more negative y) green cube is higher on screen.
    expect(stats.green.y).toBeLessThan(stats.red.y - 10);
    expect(stats.green.y).toBeLessThan(stats.blue.y - 10);
  });

  it('renaming the open scene refetches its name, not its point cloud', async () => {
    const sceneId = (await page.evaluate(() => window.location.hash)).replace('#/scene/', '');
    const cloudRequests: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (/\/blobs\/scenes\/.*\/(points\.f32|colors\.u8|edits\/)/.test(request.url()))
        cloudRequests.push(request.url());
    };
    page.on('request', onRequest);
    try {
      await callApi(studio, 'scenes.rename', { sceneId, name: 'renamed cubes' });
      await expect
        .poll(() => page.getByTestId('scene-title').textContent(), { timeout: 10_000 })
        .toBe('renamed cubes');
      await page.waitForTimeout(500);
      expect(cloudRequests).toEqual([]);
      await callApi(studio, 'scenes.rename', { sceneId, name: 'rgb-cubes' });
      await expect
        .poll(() => page.getByTestId('scene-title').textContent(), { timeout: 10_000 })
        .toBe('rgb-cubes');
      expect(cloudRequests).toEqual([]);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('orbits with the mouse, returns with Fit to scene, and grows points with the size slider', async () => {
    const canvas = page.locator('[data-testid=scene-view] canvas');
    const pixels = async () => (await sceneCanvasRgb(page)).data;
    const differing = (a: Buffer, b: Buffer) => {
      let count = 0;
      for (let i = 0; i < a.length; i += 3)
        if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) > 30) count++;
      return count / (a.length / 3);
    };
    const saturated = (raw: Buffer) => {
      let count = 0;
      for (let i = 0; i < raw.length; i += 3) if (Math.max(raw[i], raw[i + 1], raw[i + 2]) > 200) count++;
      return count;
    };
    const fitted = await pixels();

    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 250, box.y + box.height / 2 + 60, { steps: 8 });
    await page.mouse.up();
    const orbited = await pixels();
    expect(differing(fitted, orbited)).toBeGreaterThan(0.01);

    await page.getByTestId('fit-button').click();
    const refitted = await pixels();
    expect(differing(fitted, refitted)).toBeLessThan(0.002);

    await page.getByTestId('point-size').fill('2');
    const small = saturated(await pixels());
    await page.getByTestId('point-size').fill('10');
    const large = saturated(await pixels());
    expect(large).toBeGreaterThan(small * 1.5);
    await page.getByTestId('point-size').fill('6');
  });

  it('exports a GLB from the Export menu that the Khronos validator accepts', async () => {
    await page.getByTestId('export-button').click();
    const downloadStarted = page.waitForEvent('download');
    await page.getByTestId('export-glb').click();
    const download = await downloadStarted;
    expect(download.suggestedFilename()).toMatch(/\.glb$/);
    const path = join(scratch, download.suggestedFilename());
    await download.saveAs(path);
    const bytes = new Uint8Array(await readFile(path));
    const validator = requireModule('gltf-validator') as {
      validateBytes(data: Uint8Array, options?: object): Promise<ValidatorReport>;
    };
    const report = await validator.validateBytes(bytes, { maxIssues: 50 });
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages.slice(0, 5))).toBe(0);
    expect(report.info?.totalVertexCount).toBe(3 * 12 ** 3);
  });

  it('exports an ASCII PLY with every point and its colour', async () => {
    await page.getByTestId('export-button').click();
    const downloadStarted = page.waitForEvent('download');
    await page.getByTestId('export-ply-ascii').click();
    const download = await downloadStarted;
    const path = join(scratch, download.suggestedFilename());
    await download.saveAs(path);
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('ply\nformat ascii 1.0')).toBe(true);
    expect(text).toContain(`element vertex ${3 * 12 ** 3}`);
    expect(text).toMatch(/property uchar red/);
  });

  it('imports a file dropped onto the window', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library').waitFor();
    const before = await page.locator('[data-testid=scene-card][data-kind=pointcloud]').count();
    const bytes = Array.from(plyBytes(rgbCubes(4)));
    // A real drag from the desktop cannot be scripted; the browser's own DragEvent with a DataTransfer holding the file is what the page sees.
    await page.evaluate(
      ({ name, content }) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(content)], name));
        const app = document.querySelector('.app') as HTMLElement;
        app.dispatchEvent(
          new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
      },
      { name: 'dropped.ply', content: bytes },
    );
    await page.getByTestId('drop-overlay').waitFor();
    await screenshot(page, '06-drop-overlay');
    await page.evaluate(
      ({ name, content }) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(content)], name));
        const app = document.querySelector('.app') as HTMLElement;
        app.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      { name: 'dropped.ply', content: bytes },
    );
    await expect
      .poll(() => page.locator('[data-testid=scene-card][data-kind=pointcloud]').count(), { timeout: 30_000 })
      .toBe(before + 1);
    expect(await page.getByTestId('drop-overlay').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('scene-name').allTextContents(), { timeout: 20_000 })
      .toContain('dropped');
  });

  it('shows a failed import with its message and a fix', async () => {
    const brokenPath = join(scratch, 'broken.mov');
    await writeFile(
      brokenPath,
      Buffer.from('this is not a video, just text pretending to be one\n'.repeat(50)),
    );
    await page.getByTestId('import-input').setInputFiles(brokenPath);
    const failed = page.locator('[data-testid=job][data-status=failed]', { hasText: 'broken.mov' });
    await failed.waitFor({ timeout: 60_000 });
    const message = await failed.locator('[data-testid=job-error] strong').textContent();
    const fix = await failed.locator('[data-testid=job-error] span').textContent();
    expect(message).toMatch(/broken\.mov/);
    expect(fix?.length).toBeGreaterThan(10);
    expect(`${message} ${fix}`).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    await screenshot(page, '07-failed-import');
  });

  it('clears finished jobs from the Jobs panel, and they stay cleared after a reload', async () => {
    const panel = page.getByTestId('jobs-panel');
    expect(await panel.locator('[data-testid=job][data-status=succeeded]').count()).toBeGreaterThan(0);
    await panel.getByTestId('jobs-clear').click();
    await expect.poll(() => panel.getByTestId('job').count(), { timeout: 10_000 }).toBe(0);
    await page.reload();
    await page.getByTestId('jobs-panel').waitFor();
    await new Promise((done) => setTimeout(done, 500));
    expect(await page.getByTestId('job').count()).toBe(0);
  });

  it('ran without console errors or CSP violations', () => {
    expect(problems).toEqual([]);
  });
});
