// Cleaning a point cloud in the browser (Chromium, WebGL on SwiftShader)
// against the real server: the quality filter previews live while its slider
// moves, Apply stores one edit that survives a reload and a server restart,
// the undo/redo keys bring the points back and take them away again, and a
// voxel downsample lightens the cloud. Every check reads the rendered pixels
// or the core's edit state, not only the DOM.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneEditState, SceneSummary } from '../../main/common/domain';
import { plyBytes, rgbCubes, type ColouredCloud } from './fixtures';
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
const PER_AXIS = 10;
const STRAYS = 40;

/** Three coloured cubes and a few yellow points scattered far around them (what a filter should remove). */
function cubesWithStrays(): ColouredCloud {
  const cubes = rgbCubes(PER_AXIS);
  const count = cubes.positions.length / 3 + STRAYS;
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  positions.set(cubes.positions);
  colors.set(cubes.colors);
  let seed = 12345;
  const random = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = cubes.positions.length / 3; i < count; i++) {
    // Around the cubes (x -1.3..1.3, y -0.3..0.3, z 2..2.6), at least a cube's width away from them.
    const side = random() < 0.5 ? -1 : 1;
    positions.set([(random() * 2.6 - 1.3) * 1.2, side * (0.9 + random() * 0.6), 1.6 + random() * 1.4], i * 3);
    colors.set([255, 235, 0], i * 3);
  }
  return { positions, colors };
}

interface PixelCounts {
  yellow: number;
  coloured: number;
}

describe.skipIf(skipReason !== null)(
  `cleaning in the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let studio: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    let problems: string[];
    let scratch: string;
    let library: string;
    let sceneId: string;
    let total: number;
    let unfiltered: PixelCounts;
    let filteredKept: number;

    const api = <T>(name: string, input: unknown): Promise<T> => callApi<T>(studio, name, input);
    const editState = () => api<SceneEditState>('edits.get', { sceneId });
    const status = () => page.getByTestId('cloud-status');
    const shown = async () => Number(await status().getAttribute('data-shown'));

    /** Yellow (stray) and saturated red/green/blue pixels of the canvas, after the on-demand render. */
    const pixels = async (): Promise<PixelCounts> => {
      const { data } = await sceneCanvasRgb(page);
      const counts = { yellow: 0, coloured: 0 };
      for (let i = 0; i < data.length; i += 3) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r > 200 && g > 180 && b < 80) counts.yellow++;
        else if (Math.max(r, g, b) > 200 && r + g + b < 330) counts.coloured++;
      }
      return counts;
    };

    const openScene = async () => {
      await page.locator(`[data-scene-id=${sceneId}]`).getByTestId('scene-open').click();
      await page.locator('[data-testid=cloud-status][data-status=ready]').waitFor({ timeout: 30_000 });
      await page.getByTestId('point-size').fill('5');
      await page.getByTestId('fit-button').click();
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-clean-'));
      library = join(scratch, 'library');
      studio = await startStudio({ library });
      const plyPath = join(scratch, 'cubes-with-strays.ply');
      const cloud = cubesWithStrays();
      total = cloud.positions.length / 3;
      await writeFile(plyPath, plyBytes(cloud));
      const { jobId } = await api<{ jobId: string }>('scenes.import', {
        sources: [{ kind: 'path', path: plyPath }],
      });
      expect((await waitForJobOver(studio, jobId)).status).toBe('succeeded');
      sceneId = (await api<SceneSummary[]>('scenes.list', {}))[0].id;

      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      problems = collectPageProblems(page);
      await page.goto(studio.url);
      await openScene();
    });

    afterAll(async () => {
      await browser?.close();
      await studio?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('previews the outlier filter live while the slider moves, and Cancel drops the preview', async () => {
      expect(await shown()).toBe(total);
      unfiltered = await pixels();
      expect(unfiltered.yellow).toBeGreaterThan(100);
      expect(unfiltered.coloured).toBeGreaterThan(3000);

      await page.getByTestId('filter-section').locator('summary').click();
      // An imported cloud has no frames: only the statistical outlier score is offered.
      expect(await page.getByTestId('filter-score').locator('option').allTextContents()).toEqual([
        'Statistical outliers',
      ]);
      await page.getByTestId('filter-slider').fill('2');
      await expect.poll(() => status().getAttribute('data-previewing'), { timeout: 30_000 }).toBe('true');
      const previewKept = await shown();
      // The worst 2 % go; points tied with the last one removed stay (a cube's corners score alike).
      expect(previewKept).toBeGreaterThanOrEqual(Math.round(total * 0.98));
      expect(previewKept).toBeLessThanOrEqual(total - STRAYS);
      expect(await page.getByTestId('filter-preview-count').textContent()).toContain(
        `Keeps ${previewKept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`,
      );
      const previewed = await pixels();
      await screenshot(page, 'clean-01-filter-preview');
      // The strays are the worst 2 %: gone from the picture, the cubes still there.
      expect(previewed.yellow).toBeLessThan(unfiltered.yellow * 0.05);
      expect(previewed.coloured).toBeGreaterThan(unfiltered.coloured * 0.8);

      // Dragging further removes more of the cubes themselves.
      await page.getByTestId('filter-slider').fill('30');
      await expect.poll(shown, { timeout: 10_000 }).toBeLessThan(total * 0.8);
      expect(await shown()).toBeGreaterThanOrEqual(Math.round(total * 0.7));
      expect((await pixels()).coloured).toBeLessThan(previewed.coloured);

      await page.getByTestId('filter-cancel').click();
      await expect.poll(() => status().getAttribute('data-previewing')).toBe('false');
      expect(await shown()).toBe(total);
      expect((await pixels()).yellow).toBeGreaterThan(unfiltered.yellow * 0.9);
      expect((await editState()).edits).toHaveLength(0);
    });

    it('applies the filter as one stored edit that keeps exactly the previewed points', async () => {
      await page.getByTestId('filter-slider').fill('2');
      await expect.poll(shown, { timeout: 30_000 }).toBeLessThanOrEqual(total - STRAYS);
      const previewKept = await shown();
      await page.getByTestId('filter-apply').click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(1);
      const state = await editState();
      expect(state.edits.map((stored) => stored.edit)).toEqual([
        { kind: 'filter', params: { score: 'outlier', cut: { mode: 'percentile', removePercent: 2 } } },
      ]);
      expect(state.keptCount).toBe(previewKept);
      filteredKept = state.keptCount;
      await expect.poll(() => status().getAttribute('data-previewing')).toBe('false');
      await expect.poll(shown, { timeout: 10_000 }).toBe(filteredKept);
      expect(await status().textContent()).toBe(
        `${filteredKept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points`,
      );
      expect((await pixels()).yellow).toBeLessThan(unfiltered.yellow * 0.05);
      expect(await page.getByTestId('edit-entry').textContent()).toMatch(/outliers.*2 % removed/);
      await screenshot(page, 'clean-02-filter-applied');
    });

    it('keeps the edit after a reload and after a server restart', async () => {
      // The scene stays open across a reload (its address names it).
      await page.reload();
      await page.locator('[data-testid=cloud-status][data-status=ready]').waitFor({ timeout: 30_000 });
      await page.getByTestId('point-size').fill('5');
      await page.getByTestId('fit-button').click();
      await expect.poll(shown, { timeout: 20_000 }).toBe(filteredKept);
      expect((await pixels()).yellow).toBeLessThan(unfiltered.yellow * 0.05);

      await studio.stop();
      studio = await startStudio({ library });
      await page.goto(studio.url);
      await page.getByTestId('library').waitFor({ timeout: 20_000 });
      await openScene();
      await expect.poll(shown, { timeout: 20_000 }).toBe(filteredKept);
      expect(await page.getByTestId('edit-entry').count()).toBe(1);
      expect((await pixels()).yellow).toBeLessThan(unfiltered.yellow * 0.05);
    });

    it('undoes with Ctrl+Z and redoes with Ctrl+Shift+Z and Ctrl+Y, but not while typing', async () => {
      await page.locator('[data-testid=scene-view] canvas').click({ position: { x: 5, y: 400 } });
      await page.keyboard.press('Control+z');
      await expect.poll(shown, { timeout: 20_000 }).toBe(total);
      expect((await pixels()).yellow).toBeGreaterThan(unfiltered.yellow * 0.9);
      expect(await page.getByTestId('edit-undone').count()).toBe(1);
      expect((await editState()).edits).toHaveLength(0);

      await page.keyboard.press('Control+Shift+z');
      await expect.poll(shown, { timeout: 20_000 }).toBe(filteredKept);
      expect((await pixels()).yellow).toBeLessThan(unfiltered.yellow * 0.05);

      await page.keyboard.press('Control+z');
      await expect.poll(shown, { timeout: 20_000 }).toBe(total);
      await page.keyboard.press('Control+y');
      await expect.poll(shown, { timeout: 20_000 }).toBe(filteredKept);
      expect((await editState()).keptCount).toBe(filteredKept);

      // In a text field the keys edit the text, not the scene.
      await page.getByTestId('voxel-section').locator('summary').click();
      await page.getByTestId('voxel-size').focus();
      await page.keyboard.press('Control+z');
      await page.waitForTimeout(500);
      expect((await editState()).edits).toHaveLength(1);
      expect(await shown()).toBe(filteredKept);
    });

    it('downsamples to voxels: fewer points drawn, undo brings them back', async () => {
      const before = await pixels();
      // Cube edges are 0.6 with 10 points along each: 0.2 voxels leave about 3 per edge.
      await page.getByTestId('voxel-size').fill('0.2');
      await page.getByTestId('voxel-apply').click();
      await expect.poll(() => page.getByTestId('edit-entry').count(), { timeout: 30_000 }).toBe(2);
      const state = await editState();
      expect(state.cloud).toBe('voxel');
      expect(state.pointCount).toBeLessThan(filteredKept / 5);
      await expect.poll(shown, { timeout: 20_000 }).toBe(state.pointCount);
      expect(await status().textContent()).toBe(`${state.pointCount.toLocaleString('en-US')} points`);
      const voxels = await pixels();
      await screenshot(page, 'clean-03-voxel');
      expect(voxels.coloured).toBeLessThan(before.coloured * 0.6);
      expect(voxels.coloured).toBeGreaterThan(50);
      expect(await page.getByTestId('edit-entry').nth(1).textContent()).toBe('Voxel downsample, 0.2 units');

      await page.getByTestId('undo-button').click();
      await expect.poll(shown, { timeout: 20_000 }).toBe(filteredKept);
      expect((await pixels()).coloured).toBeGreaterThan(before.coloured * 0.9);
    });

    it('offers camera formats only for scenes with cameras, and says what exports contain', async () => {
      await page.getByTestId('export-button').click();
      expect(await page.getByTestId('export-note').textContent()).toBe(
        `Exports contain the edited points (${filteredKept.toLocaleString('en-US')} kept), in scene units (set a scale to export in metres).`,
      );
      expect(await page.getByTestId('export-colmap').isDisabled()).toBe(true);
      expect(await page.getByTestId('export-nerfstudio').isDisabled()).toBe(true);
      expect(await page.getByTestId('export-cameras-reason').textContent()).toContain('no cameras');
      await page.getByTestId('export-button').click();
    });

    it('ran without console errors or CSP violations', () => {
      // The restart test stops the server on purpose: the events socket's reconnect
      // attempts while it is down are refused, and Chromium logs each one.
      const reconnects = /WebSocket connection to '.*\/api\/events' failed: .*ERR_CONNECTION_REFUSED/;
      expect(problems.filter((problem) => !reconnects.test(problem))).toEqual([]);
    });
  },
);
