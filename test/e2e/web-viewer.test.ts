// The viewer's point renderer in real Chromium (WebGL on SwiftShader), on the
// benchmark page of the renderer build: BudgetedPointCloud draws the same
// pixels as a plain THREE.Points, thins to its budget while the camera moves,
// draws everything when still, and a keep mask hides points on screen.

import { existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison, RunOptions } from '../../renderer/bench/viewer-bench';
import { collectPageProblems, launchChromium, missingPrerequisites, repoRoot } from './harness';

const rendererDir = join(repoRoot, 'out', 'renderer');
const benchPage = join(rendererDir, 'bench', 'viewer-bench.html');
const skipReason =
  missingPrerequisites() ??
  (existsSync(benchPage) ? null : 'the viewer page is not built: run `npm run build`');
const ORIGIN = 'http://viewer-test.localhost';

interface BenchWindow {
  viewerBench: {
    prepare(count: number): number;
    compare(options: RunOptions): Promise<Comparison>;
    highlightFractions(): Promise<{ none: number; half: number; onlyHighlighted: number; covered: number }>;
  };
}

describe.skipIf(skipReason !== null)(
  `viewer renderer${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let browser: Browser;
    let page: Page;
    let problems: string[];

    beforeAll(async () => {
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      problems = collectPageProblems(page);
      await page.route(`${ORIGIN}/**`, (route) => {
        const path = normalize(join(rendererDir, new URL(route.request().url()).pathname));
        if (!path.startsWith(rendererDir) || !existsSync(path)) return route.fulfill({ status: 404 });
        return route.fulfill({ path });
      });
      await page.goto(`${ORIGIN}/bench/viewer-bench.html`);
      await page.waitForFunction(() => document.title === 'viewer-bench ready', null, { timeout: 60_000 });
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('draws like THREE.Points when still, its budget while moving, and hides masked points', async () => {
      const count = 200_000;
      await page.evaluate((n) => (window as unknown as BenchWindow).viewerBench.prepare(n), count);
      const { plain, budgeted } = await page.evaluate(
        (options) => (window as unknown as BenchWindow).viewerBench.compare(options),
        { movingFrames: 2, stillFrames: 1, budget: 50_000, pointSizePx: 2 } satisfies RunOptions,
      );
      expect(budgeted.movingDrawn).toBe(50_000);
      expect(budgeted.stillDrawn).toBe(count);
      // The same points, the same size and the same stored colours: the same pixels.
      expect(plain.coverage).toBeGreaterThan(0.2);
      expect(budgeted.coverage).toBeCloseTo(plain.coverage, 3);
      for (let channel = 0; channel < 3; channel++) {
        expect(Math.abs(budgeted.meanColor[channel] - plain.meanColor[channel])).toBeLessThan(0.5);
      }
      // Half the room (x ≥ 0) hidden by the keep mask: far fewer pixels covered.
      expect(budgeted.maskedCoverage).toBeLessThan(budgeted.coverage * 0.75);
      expect(budgeted.maskedCoverage).toBeGreaterThan(budgeted.coverage * 0.25);
      // Positions and colours were released after the upload: only the run order and visibility stay.
      expect(budgeted.cpuBytesKept).toBe(4 * Math.floor(count / 16) + count);
      expect(problems).toEqual([]);
    });

    it('draws highlighted points in the highlight colour, and hidden ones not at all', async () => {
      await page.evaluate((n) => (window as unknown as BenchWindow).viewerBench.prepare(n), 100_000);
      const f = await page.evaluate(() =>
        (window as unknown as BenchWindow).viewerBench.highlightFractions(),
      );
      expect(f.none).toBeLessThan(0.001); // the room has no such yellow of its own
      expect(f.half).toBeGreaterThan(0.1);
      // x ≥ 0 hidden, x < 0 highlighted: whatever is still drawn is highlight-coloured.
      expect(f.onlyHighlighted).toBeGreaterThan(f.covered * 0.97);
      expect(f.covered).toBeLessThan(f.half * 1.5);
      expect(problems).toEqual([]);
    });
  },
);
