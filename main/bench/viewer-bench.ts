// Viewer benchmark: frame time of the 3D view for 1M, 5M and 10M points in
// headless Chromium, BudgetedPointCloud against a plain THREE.Points with
// PointsMaterial on the same synthetic room in the same run. The page is
// renderer/bench/viewer-bench.html from the renderer build; each frame is
// synchronised with a pixel read, so a time is the whole frame. Without a GPU
// Chromium draws with SwiftShader (a CPU rasteriser): few frames per size keep
// the section to a few minutes, and absolute figures are not GPU figures.

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, normalize } from 'node:path';
import type { Comparison, FrameRun, RunOptions } from '../../renderer/bench/viewer-bench';
import { DEFAULT_BUDGET } from '../../renderer/src/scene/points/point-budget';
import type { BenchFigure, BenchSection } from './bench-types';
import { CHROMIUM_PATH, SOFTWARE_WEBGL_ARGS } from './headless-chromium';

const COMMON = { budget: 1_000_000, pointSizePx: 2, adaptiveFrames: 12 };
/** The adaptive budget's settled frame time: the median of its last frames. */
const SETTLED_FRAMES = 4;
// Frames per size: more where they are cheap (SwiftShader: ~0.5 s at 1M, ~5 s at 10M).
const RUNS: Array<{ count: number; options: RunOptions }> = [
  { count: 1_000_000, options: { ...COMMON, movingFrames: 6, stillFrames: 4 } },
  { count: 5_000_000, options: { ...COMMON, movingFrames: 3, stillFrames: 3 } },
  { count: 10_000_000, options: { ...COMMON, movingFrames: 3, stillFrames: 2 } },
];
const ORIGIN = 'http://viewer-bench.localhost';
const MB = 1e6;

interface BenchPage {
  webgl(): string;
  prepare(count: number): number;
  compare(options: RunOptions): Promise<Comparison>;
}

/** Median: the frames are interleaved, so a burst of load hits both; a lucky single frame should not decide. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function versus(label: string, value: number, unit: string, baseline: number): BenchFigure {
  return {
    label,
    value,
    unit,
    baseline: { label: 'plain THREE.Points', value: baseline },
    ratio: value / baseline,
  };
}

export async function runViewerBench(): Promise<BenchSection> {
  // out/main/bench.js -> out/renderer
  const rendererDir = join(__dirname, '..', 'renderer');
  if (!existsSync(join(rendererDir, 'bench', 'viewer-bench.html'))) {
    throw new Error(`the viewer benchmark page is not built (${rendererDir}): run \`npm run build\``);
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...SOFTWARE_WEBGL_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The built files are served from disk under a made-up origin (module scripts need http, not file:).
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = normalize(join(rendererDir, new URL(route.request().url()).pathname));
      if (!path.startsWith(rendererDir) || !existsSync(path)) return route.fulfill({ status: 404 });
      return route.fulfill({ path });
    });
    await page.goto(`${ORIGIN}/bench/viewer-bench.html`);
    await page.waitForFunction(() => document.title === 'viewer-bench ready', null, { timeout: 60_000 });
    const webgl = await page.evaluate(() =>
      (window as unknown as { viewerBench: BenchPage }).viewerBench.webgl(),
    );
    for (const { count, options } of RUNS) {
      const label = `${count / 1e6}M points`;
      process.stdout.write(`  ${label}…\n`);
      await page.evaluate(
        (n) => (window as unknown as { viewerBench: BenchPage }).viewerBench.prepare(n),
        count,
      );
      const { plain, budgeted: ours } = await page.evaluate(
        (options) => (window as unknown as { viewerBench: BenchPage }).viewerBench.compare(options),
        options,
      );
      figures.push(
        versus(
          `${label}, frame while orbiting (BudgetedPointCloud draws ${ours.movingDrawn.toLocaleString('en-US')})`,
          median(ours.movingMs),
          'ms',
          median(plain.movingMs),
        ),
        versus(
          `${label}, still frame (all ${ours.stillDrawn.toLocaleString('en-US')} drawn)`,
          median(ours.stillMs),
          'ms',
          median(plain.stillMs),
        ),
        versus(
          `${label}, first frame (GPU upload + shader compile)`,
          ours.firstFrameMs,
          'ms',
          plain.firstFrameMs,
        ),
        versus(
          `${label}, frame while orbiting, adaptive budget (settled at ${ours.adaptiveDrawn.at(-1)?.toLocaleString('en-US')} drawn)`,
          median(ours.adaptiveMs.slice(-SETTLED_FRAMES)),
          'ms',
          median(plain.movingMs),
        ),
        {
          label: `${label}, CPU preparation before the upload (shuffle + draw-order copies)`,
          value: ours.buildMs,
          unit: 'ms',
        },
        versus(
          `${label}, typed arrays the renderer keeps on the CPU after the upload`,
          ours.cpuBytesKept / MB,
          'MB',
          plain.cpuBytesKept / MB,
        ),
        { label: `${label}, pickPoint (4 px radius, CPU)`, value: ours.pickMs, unit: 'ms' },
        {
          label: `${label}, keep mask change (half hidden), setMasks on the CPU`,
          value: ours.maskMs,
          unit: 'ms',
        },
        {
          label: `${label}, frame after the keep mask change (1-byte upload)`,
          value: ours.maskFrameMs,
          unit: 'ms',
        },
      );
      const growth = (run: FrameRun) =>
        run.movingHeapGrowth === null
          ? 'n/a'
          : `${Math.round(run.movingHeapGrowth / options.movingFrames)} B`;
      notes.push(
        `${label}: JS heap growth per orbiting frame ${growth(ours)} (plain THREE.Points ${growth(plain)}); ` +
          `canvas covered ${(ours.coverage * 100).toFixed(1)}% vs ${(plain.coverage * 100).toFixed(1)}% still, ` +
          `${(ours.maskedCoverage * 100).toFixed(1)}% with half the room hidden; ` +
          `load average ${loadavg()[0].toFixed(1)} (SwiftShader's own threads included); ` +
          `frames ${ours.movingMs.map((ms) => ms.toFixed(0)).join('/')} ms orbiting, ` +
          `plain ${plain.movingMs.map((ms) => ms.toFixed(0)).join('/')} ms; still ` +
          `${ours.stillMs.map((ms) => ms.toFixed(0)).join('/')} ms, plain ${plain.stillMs.map((ms) => ms.toFixed(0)).join('/')} ms; ` +
          `adaptive budget frames ${ours.adaptiveMs.map((ms) => ms.toFixed(0)).join('/')} ms drawing ` +
          `${ours.adaptiveDrawn.map((n) => `${Math.round(n / 1e3)}k`).join('/')} points.`,
      );
    }
    if (pageErrors.length > 0) throw new Error(`the benchmark page failed: ${pageErrors.join('; ')}`);
    notes.unshift(
      `Measured ${new Date().toISOString()}. WebGL renderer: ${webgl}. SwiftShader is a CPU rasteriser: absolute times are not GPU times; ` +
        `the ratios compare the two renderers on the same rasteriser in the same run.`,
      `1280x720 canvas, ${COMMON.pointSizePx} px points, synthetic room (floor, walls, table, furniture) in OpenCV axes, ` +
        `points in scanline order per surface as a reconstruction writes them; ` +
        `median of ${RUNS.map((r) => `${r.options.movingFrames}/${r.options.stillFrames}`).join(', ')} orbiting/still frames ` +
        `(1M/5M/10M), each ended by a pixel read, ` +
        `the two renderers taking turns frame by frame on the same camera path. ` +
        `The moving budget is fixed at ${COMMON.budget.toLocaleString('en-US')} for the comparison; the adaptive figure then runs ` +
        `${COMMON.adaptiveFrames} orbiting frames with the app's budget (from ${DEFAULT_BUDGET.initial.toLocaleString('en-US')}, ` +
        `floor ${DEFAULT_BUDGET.min.toLocaleString('en-US')}, aiming at ${DEFAULT_BUDGET.targetFrameMs} ms) and reports the median of its last ${SETTLED_FRAMES}.`,
    );
  } finally {
    await browser.close();
  }
  return { name: 'Viewer: frame time in headless Chromium', figures, notes };
}
