// The viewer's interactive tools in a real browser (Chromium, WebGL on
// SwiftShader) against the real server and core: crop with a dragged handle,
// lasso delete and undo, measure, scale, ground plane. Everything the test
// clicks it first finds on screen by colour, as a user would by eye; results
// are read back from the canvas's pixels, the API and an exported file.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportResult, SceneDetail, SceneEditState } from '../../main/common/domain';
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

type Vec3 = [number, number, number];
type Rgb = [number, number, number];

const GREY: Rgb = [150, 150, 150];
const MAGENTA: Rgb = [255, 0, 255];
const CYAN: Rgb = [0, 255, 255];
const ORANGE: Rgb = [255, 128, 0];
const RED: Rgb = [255, 0, 0];

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const unit = (a: Vec3): Vec3 => {
  const l = Math.hypot(...a);
  return [a[0] / l, a[1] / l, a[2] / l];
};
const dist = (a: Vec3, b: Vec3) => Math.hypot(...sub(a, b));

/**
 * A tilted floor (a grey grid, OpenCV axes: its up normal has −y) with three
 * single marker points on it in magenta, cyan and orange, and a red pole
 * standing on it along the normal. The markers are grid points, so picking
 * one is picking a floor point with known coordinates.
 */
function tiltedFloor() {
  const normal = unit([0.3, -1, -0.9]);
  const across = unit(cross(normal, [0, 0, 1]));
  const along = cross(normal, across);
  const centre: Vec3 = [0, 0.4, 3];
  const grid = 15;
  const spacing = 0.15;
  const markers: Array<{ i: number; j: number; color: Rgb }> = [
    { i: 2, j: 2, color: MAGENTA },
    { i: 12, j: 3, color: CYAN },
    { i: 7, j: 12, color: ORANGE },
  ];
  const poleCount = 40;
  const count = grid * grid + poleCount;
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  const at: Record<string, Vec3> = {};
  let p = 0;
  for (let i = 0; i < grid; i++)
    for (let j = 0; j < grid; j++) {
      const s = (i - (grid - 1) / 2) * spacing;
      const t = (j - (grid - 1) / 2) * spacing;
      positions.set(
        [0, 1, 2].map((a) => centre[a] + s * across[a] + t * along[a]),
        p * 3,
      );
      const marker = markers.find((m) => m.i === i && m.j === j);
      colors.set(marker?.color ?? GREY, p * 3);
      // What the studio stores and picks is float32: compare against that.
      if (marker) at[marker.color.join()] = Array.from(positions.subarray(p * 3, p * 3 + 3)) as Vec3;
      p++;
    }
  for (let k = 0; k < poleCount; k++) {
    const h = 0.05 + (k / (poleCount - 1)) * 1.0;
    positions.set(
      [0, 1, 2].map((a) => centre[a] + h * normal[a]),
      p * 3,
    );
    colors.set(RED, p * 3);
    p++;
  }
  return {
    cloud: { positions, colors } as ColouredCloud,
    normal,
    magenta: at[MAGENTA.join()],
    cyan: at[CYAN.join()],
    orange: at[ORANGE.join()],
  };
}

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

type PixelTest = (r: number, g: number, b: number) => boolean;
const isRed: PixelTest = (r, g, b) => r > 200 && g < 60 && b < 60;
const isGreen: PixelTest = (r, g, b) => g > 200 && r < 60 && b < 60;
const isBlue: PixelTest = (r, g, b) => b > 200 && r < 60 && g < 60;
const isMagenta: PixelTest = (r, g, b) => r > 200 && g < 80 && b > 200;
const isCyan: PixelTest = (r, g, b) => r < 80 && g > 200 && b > 200;
const isOrange: PixelTest = (r, g, b) => r > 200 && g > 90 && g < 170 && b < 60;
/** The viewer's selection highlight (point-material.ts: 1, 0.85, 0). */
const isHighlight: PixelTest = (r, g, b) => r > 200 && g > 180 && g < 240 && b < 60;

interface PixelSet {
  n: number;
  cx: number;
  cy: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  xs: number[];
  ys: number[];
}

function pixelsWhere(raw: Raw, test: PixelTest): PixelSet {
  const set: PixelSet = {
    n: 0,
    cx: 0,
    cy: 0,
    minX: Infinity,
    maxX: -Infinity,
    minY: Infinity,
    maxY: -Infinity,
    xs: [],
    ys: [],
  };
  for (let y = 0; y < raw.height; y++)
    for (let x = 0; x < raw.width; x++) {
      const i = (y * raw.width + x) * 3;
      if (!test(raw.data[i], raw.data[i + 1], raw.data[i + 2])) continue;
      set.n++;
      set.cx += x;
      set.cy += y;
      set.xs.push(x);
      set.ys.push(y);
      set.minX = Math.min(set.minX, x);
      set.maxX = Math.max(set.maxX, x);
      set.minY = Math.min(set.minY, y);
      set.maxY = Math.max(set.maxY, y);
    }
  if (set.n > 0) {
    set.cx /= set.n;
    set.cy /= set.n;
  }
  return set;
}

/** Connected groups (4-neighbour) of matching pixels, largest first. */
function blobs(raw: Raw, test: PixelTest): Array<{ n: number; cx: number; cy: number }> {
  const seen = new Uint8Array(raw.width * raw.height);
  const out: Array<{ n: number; cx: number; cy: number }> = [];
  const matches = (x: number, y: number) => {
    const i = (y * raw.width + x) * 3;
    return test(raw.data[i], raw.data[i + 1], raw.data[i + 2]);
  };
  for (let y0 = 0; y0 < raw.height; y0++)
    for (let x0 = 0; x0 < raw.width; x0++) {
      if (seen[y0 * raw.width + x0] || !matches(x0, y0)) continue;
      const stack = [[x0, y0]];
      seen[y0 * raw.width + x0] = 1;
      let n = 0,
        sx = 0,
        sy = 0;
      while (stack.length) {
        const [x, y] = stack.pop()!;
        n++;
        sx += x;
        sy += y;
        for (const [nx, ny] of [
          [x + 1, y],
          [x - 1, y],
          [x, y + 1],
          [x, y - 1],
        ]) {
          if (nx < 0 || ny < 0 || nx >= raw.width || ny >= raw.height) continue;
          if (seen[ny * raw.width + nx] || !matches(nx, ny)) continue;
          seen[ny * raw.width + nx] = 1;
          stack.push([nx, ny]);
        }
      }
      out.push({ n, cx: sx / n, cy: sy / n });
    }
  return out.sort((a, b) => b.n - a.n);
}

/** Angle of a pixel set's main axis from the screen's vertical, degrees. */
function tiltFromVertical(set: PixelSet): number {
  let sxx = 0,
    syy = 0,
    sxy = 0;
  for (let k = 0; k < set.n; k++) {
    const dx = set.xs[k] - set.cx;
    const dy = set.ys[k] - set.cy;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  // Principal axis angle from the x axis; vertical is 90°.
  const fromX = (0.5 * Math.atan2(2 * sxy, sxx - syy) * 180) / Math.PI;
  return Math.abs(90 - Math.abs(fromX));
}

describe.skipIf(skipReason !== null)(`viewer tools${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let studio: StudioUnderTest;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let scratch: string;
  let cubesId: string;
  let floorId: string;
  const floor = tiltedFloor();

  const canvas = () => page.locator('[data-testid=scene-view] canvas');
  const grab = (): Promise<Raw> => sceneCanvasRgb(page);
  /** Page coordinates of a pixel of the canvas screenshot. */
  const onPage = async (x: number, y: number) => {
    const box = (await canvas().boundingBox())!;
    return { x: box.x + x, y: box.y + y };
  };
  const clickAt = async (x: number, y: number) => {
    const at = await onPage(x, y);
    await page.mouse.click(at.x, at.y);
  };
  const keptCount = async (sceneId: string) =>
    (await callApi<SceneEditState>(studio, 'edits.get', { sceneId })).keptCount;

  async function importPly(name: string, cloud: ColouredCloud): Promise<string> {
    const path = join(scratch, `${name}.ply`);
    await writeFile(path, plyBytes(cloud));
    const { jobId } = await callApi<{ jobId: string }>(studio, 'scenes.import', {
      sources: [{ kind: 'path', path }],
      name,
    });
    const job = await waitForJobOver(studio, jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    return String(job.result?.sceneId);
  }

  async function openScene(sceneId: string) {
    await page.getByTestId('nav-library').click();
    await page
      .locator(`[data-testid=scene-card][data-scene-id=${sceneId}]`)
      .getByTestId('scene-open')
      .click();
    await expect
      .poll(() => page.getByTestId('cloud-status').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('ready');
    await page.getByTestId('point-size').fill('6');
    await page.getByTestId('fit-button').click();
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-tools-'));
    studio = await startStudio();
    cubesId = await importPly('cubes', rgbCubes(12));
    floorId = await importPly('floor', floor.cloud);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    problems = collectPageProblems(page);
    await page.goto(studio.url);
    await page.getByTestId('library').waitFor({ timeout: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('crops the blue cube away by dragging the box handle, then applies the crop', async () => {
    await openScene(cubesId);
    const perCube = 12 ** 3;
    await page.getByTestId('tool-crop').click();
    const before = await grab();
    const blue = pixelsWhere(before, isBlue);
    const green = pixelsWhere(before, isGreen);
    expect(blue.n).toBeGreaterThan(500);
    // The six face handles; the +x one is the right-most.
    const handles = blobs(before, isMagenta).filter((blob) => blob.n >= 20);
    expect(handles.length).toBeGreaterThanOrEqual(5);
    const right = handles.reduce((a, b) => (b.cx > a.cx ? b : a));
    expect(right.cx).toBeGreaterThan(blue.cx);

    // Drag the face into the gap between the green and the blue cube.
    const from = await onPage(right.cx, right.cy);
    const to = await onPage((green.maxX + blue.minX) / 2, right.cy);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 12 });
    await page.mouse.up();
    const previewed = await grab();
    await screenshot(page, 'tools-01-crop-preview');
    expect(pixelsWhere(previewed, isBlue).n).toBeLessThan(10);
    expect(pixelsWhere(previewed, isGreen).n).toBeGreaterThan(500);
    expect(pixelsWhere(previewed, isRed).n).toBeGreaterThan(500);
    expect(await page.getByTestId('crop-preview').textContent()).toContain(
      `Keeps ${(2 * perCube).toLocaleString('en-US')} of ${(3 * perCube).toLocaleString('en-US')}`,
    );
    // Nothing is stored until Apply.
    expect(await keptCount(cubesId)).toBe(3 * perCube);

    await page.getByTestId('crop-apply').click();
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(2 * perCube);
    await expect.poll(() => page.getByTestId('tool-bar').getAttribute('data-mode')).toBe('orbit');
    const applied = await grab();
    expect(pixelsWhere(applied, isBlue).n).toBeLessThan(10);
    expect(pixelsWhere(applied, isGreen).n).toBeGreaterThan(500);
  });

  it('lasso-selects the green cube, highlights exactly it, deletes it with the Delete key, and undo restores it', async () => {
    const perCube = 12 ** 3;
    await page.getByTestId('tool-lasso').click();
    const before = await grab();
    const green = pixelsWhere(before, isGreen);
    const red = pixelsWhere(before, isRed);
    expect(green.n).toBeGreaterThan(500);
    // An eight-sided outline around the green cube, clear of the red one.
    const margin = Math.min(20, (green.minX - red.maxX) / 2);
    const [cx, cy] = [(green.minX + green.maxX) / 2, (green.minY + green.maxY) / 2];
    const [rx, ry] = [(green.maxX - green.minX) / 2 + margin, (green.maxY - green.minY) / 2 + margin];
    const outline = Array.from({ length: 9 }, (_, k) => {
      const angle = (k / 8) * 2 * Math.PI;
      // A circumscribed octagon: the vertex radius covers the box's corners.
      return [cx + rx * 1.42 * Math.cos(angle), cy + ry * 1.42 * Math.sin(angle)];
    }).map(([x, y]) => [Math.max(x, red.maxX + 4), y]);
    const start = await onPage(outline[0][0], outline[0][1]);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    for (const [x, y] of outline.slice(1)) {
      const at = await onPage(x, y);
      await page.mouse.move(at.x, at.y, { steps: 6 });
    }
    await page.mouse.up();
    const selected = await grab();
    await screenshot(page, 'tools-02-lasso-selection');
    expect(await page.getByTestId('selection-count').textContent()).toBe(
      `${perCube.toLocaleString('en-US')} points selected`,
    );
    expect(pixelsWhere(selected, isGreen).n).toBeLessThan(10);
    expect(pixelsWhere(selected, isHighlight).n).toBeGreaterThan(500);
    expect(pixelsWhere(selected, isRed).n).toBeGreaterThan(500);

    await page.keyboard.press('Delete');
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(perCube);
    await expect
      .poll(async () => pixelsWhere(await grab(), isHighlight).n, { timeout: 20_000 })
      .toBeLessThan(10);
    const deleted = await grab();
    expect(pixelsWhere(deleted, isGreen).n).toBeLessThan(10);
    expect(pixelsWhere(deleted, isRed).n).toBeGreaterThan(500);

    await page.keyboard.press('Escape');
    expect(await page.getByTestId('tool-bar').getAttribute('data-mode')).toBe('orbit');
    await page.keyboard.press('Control+z');
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(2 * perCube);
    await expect
      .poll(async () => pixelsWhere(await grab(), isGreen).n, { timeout: 20_000 })
      .toBeGreaterThan(500);
    // The crop is still applied: undo took back one edit.
    expect(pixelsWhere(await grab(), isBlue).n).toBeLessThan(10);
  });

  it('selects with rectangles (Shift adds) as one edit, keeps one region, and undo brings the rest back', async () => {
    const perCube = 12 ** 3;
    await page.getByTestId('tool-select').click();
    // The wheel still zooms in a selection tool: out, so the red cube is whole on screen.
    const centre = await onPage(200, 300);
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.wheel(0, 300);
    const before = await grab();
    const red = pixelsWhere(before, isRed);
    const green = pixelsWhere(before, isGreen);
    const gap = green.minX - red.maxX;
    expect(gap).toBeGreaterThan(10);
    const drag = async (x0: number, y0: number, x1: number, y1: number) => {
      const a = await onPage(x0, y0);
      const b = await onPage(x1, y1);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move(b.x, b.y, { steps: 8 });
      await page.mouse.up();
    };
    expect(red.minX).toBeGreaterThan(10);
    const aroundRed = [red.minX - 10, red.minY - 10, red.maxX + gap / 2, red.maxY + 10] as const;
    const aroundGreen = [
      green.minX - gap / 2,
      green.minY - 10,
      green.maxX + gap / 2,
      green.maxY + 10,
    ] as const;
    await drag(...aroundRed);
    const count = page.getByTestId('selection-count');
    expect(await count.textContent()).toBe(`${perCube.toLocaleString('en-US')} points selected`);
    await page.keyboard.down('Shift');
    await drag(...aroundGreen);
    await page.keyboard.up('Shift');
    expect(await count.textContent()).toBe(`${(2 * perCube).toLocaleString('en-US')} points selected`);
    const both = await grab();
    expect(pixelsWhere(both, isRed).n + pixelsWhere(both, isGreen).n).toBeLessThan(10);
    // Shift-added regions are one edit: Delete removes both, one undo brings both back.
    await page.keyboard.press('Delete');
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(2 * perCube);
    await expect
      .poll(async () => pixelsWhere(await grab(), isGreen).n, { timeout: 20_000 })
      .toBeGreaterThan(500);

    // A new rectangle without Shift replaces the selection.
    await drag(...aroundRed);
    expect(await count.textContent()).toBe(`${perCube.toLocaleString('en-US')} points selected`);
    await page.getByTestId('selection-keep').click();
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(perCube);
    await expect.poll(async () => pixelsWhere(await grab(), isGreen).n, { timeout: 20_000 }).toBeLessThan(10);
    expect(pixelsWhere(await grab(), isRed).n).toBeGreaterThan(500);

    await page.keyboard.press('Control+z');
    await expect.poll(() => keptCount(cubesId), { timeout: 20_000 }).toBe(2 * perCube);
    await expect
      .poll(async () => pixelsWhere(await grab(), isGreen).n, { timeout: 20_000 })
      .toBeGreaterThan(500);
    await page.keyboard.press('Escape');
  });

  it('measures between two picked points, in units and then in metres once the scale is set', async () => {
    await openScene(floorId);
    await page.getByTestId('tool-measure').click();
    const view = await grab();
    const magenta = pixelsWhere(view, isMagenta);
    const cyan = pixelsWhere(view, isCyan);
    expect(magenta.n).toBeGreaterThan(10);
    expect(cyan.n).toBeGreaterThan(10);
    await clickAt(magenta.cx, magenta.cy);
    await clickAt(cyan.cx, cyan.cy);

    const units = dist(floor.magenta, floor.cyan);
    const distance = page.getByTestId('measure-distance');
    await distance.waitFor();
    // The picks landed on the marker points themselves, not on a neighbour.
    expect(Number(await distance.getAttribute('data-value'))).toBeCloseTo(units, 5);
    expect(await distance.getAttribute('data-unit')).toBe('units');
    const label = page.getByTestId('measure-label');
    expect(await label.textContent()).toBe(`${units.toFixed(3)} units`);
    // The measuring line is drawn: white pixels a quarter of the way from one pick to the other.
    const drawn = await grab();
    await screenshot(page, 'tools-03-measure');
    const qx = magenta.cx + (cyan.cx - magenta.cx) / 4;
    const qy = magenta.cy + (cyan.cy - magenta.cy) / 4;
    const white = pixelsWhere(drawn, (r, g, b) => r > 200 && g > 200 && b > 200);
    const onLine = white.xs.filter((x, k) => Math.hypot(x - qx, white.ys[k] - qy) <= 4);
    expect(onLine.length).toBeGreaterThan(0);

    await page.getByTestId('measure-set-scale').click();
    await page.getByTestId('scale-metres').fill('2.5');
    await page.getByTestId('scale-apply').click();
    const metresPerUnit = 2.5 / units;
    await expect
      .poll(
        async () => (await callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId })).metresPerUnit,
        {
          timeout: 20_000,
        },
      )
      .toBeCloseTo(metresPerUnit, 6);
    await expect.poll(() => label.textContent(), { timeout: 20_000 }).toBe('2.500 m');
    expect(await distance.getAttribute('data-unit')).toBe('m');

    // Another distance, now in metres (the picks now hide the markers: their places from before).
    const orange = pixelsWhere(view, isOrange);
    expect(orange.n).toBeGreaterThan(10);
    await clickAt(cyan.cx, cyan.cy);
    await clickAt(orange.cx, orange.cy);
    const expected = dist(floor.cyan, floor.orange) * metresPerUnit;
    await expect.poll(() => label.textContent(), { timeout: 10_000 }).toBe(`${expected.toFixed(3)} m`);
  });

  it('exports a PLY in metres once the scene has a scale', async () => {
    const { jobId } = await callApi<{ jobId: string }>(studio, 'scenes.export', {
      sceneId: floorId,
      format: 'ply',
      encoding: 'ascii',
    });
    const exportJob = await waitForJobOver(studio, jobId);
    expect(exportJob.status).toBe('succeeded');
    const result = exportJob.result as unknown as ExportResult;
    const response = await fetch(`${studio.origin}/blobs/exports/${result.exportId}`, {
      headers: { Authorization: `Bearer ${studio.token}` },
    });
    expect(response.ok).toBe(true);
    const text = await response.text();
    const [header, body] = text.split('end_header\n');
    const properties = header
      .split('\n')
      .filter((line) => line.startsWith('property '))
      .map((line) => line.split(' ').pop()!);
    const column = (name: string) => properties.indexOf(name);
    const rows = body
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number));
    const find = (rgb: Rgb): Vec3 => {
      const row = rows.find((r) => rgb.every((v, a) => r[column(['red', 'green', 'blue'][a])] === v))!;
      return [row[column('x')], row[column('y')], row[column('z')]];
    };
    expect(rows.length).toBe(floor.cloud.positions.length / 3);
    expect(dist(find(MAGENTA), find(CYAN))).toBeCloseTo(2.5, 3);
  });

  it('levels the scene on three picked floor points: the floor normal becomes up and the pole stands upright', async () => {
    await page.getByTestId('tool-ground').click();
    const tilted = await grab();
    const poleBefore = pixelsWhere(tilted, isRed);
    expect(poleBefore.n).toBeGreaterThan(100);
    const tiltBefore = tiltFromVertical(poleBefore);
    expect(tiltBefore).toBeGreaterThan(8);
    for (const test of [isMagenta, isCyan, isOrange]) {
      const marker = pixelsWhere(tilted, test);
      expect(marker.n).toBeGreaterThan(10);
      await clickAt(marker.cx, marker.cy);
    }
    expect(await page.getByTestId('ground-count').textContent()).toBe('3 points picked');
    await page.getByTestId('ground-level').click();
    await expect
      .poll(
        async () => (await callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId })).groundAlignment,
        {
          timeout: 20_000,
        },
      )
      .not.toBeNull();
    const alignment = (await callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId }))
      .groundAlignment!;
    const rotate = (v: Vec3): Vec3 =>
      [0, 1, 2].map(
        (r) => alignment[r * 4] * v[0] + alignment[r * 4 + 1] * v[1] + alignment[r * 4 + 2] * v[2],
      ) as Vec3;
    const up = rotate(floor.normal);
    expect(up[0]).toBeCloseTo(0, 4);
    expect(up[1]).toBeCloseTo(-1, 4);
    expect(up[2]).toBeCloseTo(0, 4);
    // The picked floor points are on the levelled ground (y = 0).
    for (const p of [floor.magenta, floor.cyan, floor.orange]) {
      expect(dot(rotate(p), [0, 1, 0]) + alignment[7]).toBeCloseTo(0, 4);
    }

    await page.getByTestId('fit-button').click();
    const level = await grab();
    await screenshot(page, 'tools-04-levelled');
    const poleAfter = pixelsWhere(level, isRed);
    expect(poleAfter.n).toBeGreaterThan(100);
    expect(tiltFromVertical(poleAfter)).toBeLessThan(3);
    // Upright, not upside down: the pole rises from the floor.
    const floorGrey = pixelsWhere(
      level,
      (r, g, b) => Math.abs(r - 150) < 20 && Math.abs(g - 150) < 20 && Math.abs(b - 150) < 20,
    );
    // (The median keeps the grey of the panels' text out of it.)
    const floorY = [...floorGrey.ys].sort((a, b) => a - b)[Math.floor(floorGrey.n / 2)];
    expect(poleAfter.minY).toBeLessThan(floorY - 50);

    await page.getByTestId('ground-reset').click();
    await expect
      .poll(
        async () => (await callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId })).groundAlignment,
        {
          timeout: 20_000,
        },
      )
      .toBeNull();
    await page.getByTestId('fit-button').click();
    expect(tiltFromVertical(pixelsWhere(await grab(), isRed))).toBeGreaterThan(8);
  });

  it('shows the current scale in the measure tool and clears it', async () => {
    await page.getByTestId('tool-measure').click();
    const scale = page.getByTestId('scene-scale');
    expect(Number(await scale.getAttribute('data-metres-per-unit'))).toBeGreaterThan(0);
    expect(await scale.textContent()).toMatch(/^Scale: 1 unit = [\d.]+ m$/);
    await page.getByTestId('scale-clear').click();
    await expect
      .poll(
        async () => (await callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId })).metresPerUnit,
        {
          timeout: 20_000,
        },
      )
      .toBeNull();
    await expect.poll(() => scale.textContent()).toContain('No scale yet');
  });

  it('draws a grid on the ground once the scene is levelled, and none before', async () => {
    await openScene(floorId);
    const viewport = page.getByTestId('viewport');
    // The grid's line colours (GroundGrid.tsx: #3b4a60 and #6f86a8).
    const isGrid: PixelTest = (r, g, b) =>
      (Math.abs(r - 59) < 8 && Math.abs(g - 74) < 8 && Math.abs(b - 96) < 8) ||
      (Math.abs(r - 111) < 8 && Math.abs(g - 134) < 8 && Math.abs(b - 168) < 8);
    expect(await viewport.getAttribute('data-grid')).toBe('off');
    const before = pixelsWhere(await grab(), isGrid).n;
    await callApi(studio, 'scenes.setGround', {
      sceneId: floorId,
      ground: { kind: 'points', points: [floor.magenta, floor.cyan, floor.orange] },
    });
    await expect.poll(() => viewport.getAttribute('data-grid'), { timeout: 20_000 }).toBe('on');
    await page.getByTestId('fit-button').click();
    const after = pixelsWhere(await grab(), isGrid).n;
    await screenshot(page, 'tools-05-ground-grid');
    expect(after).toBeGreaterThan(before + 2_000);
    await callApi(studio, 'scenes.setGround', { sceneId: floorId, ground: { kind: 'none' } });
    await expect.poll(() => viewport.getAttribute('data-grid'), { timeout: 20_000 }).toBe('off');
  });

  it('moves the camera for the Top, Front and Side presets', async () => {
    const viewport = page.getByTestId('viewport');
    const shots: Record<string, Raw> = {};
    for (const preset of ['top', 'front', 'side']) {
      await page.getByTestId(`view-${preset}`).click();
      await expect.poll(() => viewport.getAttribute('data-view')).toBe(preset);
      shots[preset] = await grab();
    }
    /** Of the pixels the scene covers in either frame, the fraction whose colour differs clearly. */
    const changed = (a: Raw, b: Raw) => {
      let n = 0;
      let covered = 0;
      for (let i = 0; i < a.data.length; i += 3) {
        const d =
          Math.abs(a.data[i] - b.data[i]) +
          Math.abs(a.data[i + 1] - b.data[i + 1]) +
          Math.abs(a.data[i + 2] - b.data[i + 2]);
        if (d > 60) n++;
        if (
          a.data[i] + a.data[i + 1] + a.data[i + 2] > 150 ||
          b.data[i] + b.data[i + 1] + b.data[i + 2] > 150
        )
          covered++;
      }
      return n / Math.max(1, covered);
    };
    expect(changed(shots.top, shots.front)).toBeGreaterThan(0.3);
    expect(changed(shots.front, shots.side)).toBeGreaterThan(0.3);
    expect(changed(shots.top, shots.side)).toBeGreaterThan(0.3);
    // The same preset again is the same view.
    await page.getByTestId('view-top').click();
    expect(changed(shots.top, await grab())).toBeLessThan(0.05);
  });

  it('starts the crop box with every handle on screen, even zoomed in, and takes typed sizes', async () => {
    await openScene(cubesId);
    const box = (await canvas().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -400);
    await page.getByTestId('tool-crop').click();
    const shot = await grab();
    // Six face handles; two may overlap when a face looks straight at the camera.
    const handles = blobs(shot, isMagenta).filter((blob) => blob.n >= 20);
    expect(handles.length).toBeGreaterThanOrEqual(5);
    for (const handle of handles) {
      expect(handle.cx).toBeGreaterThan(0);
      expect(handle.cx).toBeLessThan(shot.width);
    }
    const preview = page.getByTestId('crop-preview');
    const keeps = async () =>
      Number((await preview.textContent())!.match(/Keeps ([\d,]+)/)![1].replace(/,/g, ''));
    const all = await keeps();
    const sizeX = page.getByTestId('crop-size-x');
    const width = Number(await sizeX.inputValue());
    expect(width).toBeGreaterThan(0);
    await sizeX.fill(String(width / 4));
    await sizeX.press('Enter');
    await expect.poll(keeps, { timeout: 10_000 }).toBeLessThan(all * 0.6);
    await page.getByTestId('crop-cancel').click();
  });

  it('keeps the camera when a scale or a levelling is set, and Ctrl+Z takes each back', async () => {
    await openScene(floorId);
    type CameraState = { position: Vec3; target: Vec3 };
    // The viewer writes its camera on the canvas after every frame (ViewCamera.tsx).
    const camera = async (): Promise<CameraState> =>
      JSON.parse((await canvas().getAttribute('data-camera'))!) as CameraState;
    const sceneNow = () => callApi<SceneDetail>(studio, 'scenes.get', { sceneId: floorId });
    await grab();
    const fitted = await camera();
    // Closer than the fitted view, as a user looking at a detail is.
    const box = (await canvas().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 2; i++) await page.mouse.wheel(0, -200);
    const view = await grab();
    const start = await camera();
    expect(dist(start.position, fitted.position)).toBeGreaterThan(0.05);
    expect((await sceneNow()).metresPerUnit).toBeNull();

    // A scale from two picked points: on the history, and the camera has not moved.
    const history = page.getByTestId('edit-history');
    const entries = (kind: string) => history.locator(`[data-testid=edit-entry][data-kind=${kind}]`);
    // (Earlier tests set and cleared a scale and a levelling: those steps are listed too.)
    const scalesBefore = await entries('scale').count();
    const groundsBefore = await entries('ground').count();
    await page.getByTestId('tool-measure').click();
    for (const test of [isMagenta, isCyan]) {
      const marker = pixelsWhere(view, test);
      expect(marker.n).toBeGreaterThan(10);
      await clickAt(marker.cx, marker.cy);
    }
    await page.getByTestId('measure-set-scale').click();
    await page.getByTestId('scale-metres').fill('2.5');
    await page.getByTestId('scale-apply').click();
    await expect
      .poll(async () => (await sceneNow()).metresPerUnit, { timeout: 20_000 })
      .toBeCloseTo(2.5 / dist(floor.magenta, floor.cyan), 6);
    await expect.poll(() => entries('scale').count(), { timeout: 20_000 }).toBe(scalesBefore + 1);
    await grab();
    expect(await camera()).toEqual(start);

    // Ctrl+Z: the scale is gone (core, measure panel), the camera still where it was.
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await sceneNow()).metresPerUnit, { timeout: 20_000 }).toBeNull();
    await expect
      .poll(() => page.getByTestId('scene-scale').textContent(), { timeout: 20_000 })
      .toContain('No scale yet');
    await expect.poll(() => entries('scale').count(), { timeout: 20_000 }).toBe(scalesBefore);
    expect(await history.locator('[data-testid=edit-undone][data-kind=scale]').count()).toBe(1);
    await grab();
    expect(await camera()).toEqual(start);

    // Levelling moves the scene in the view: the camera moves with it, so the stored
    // point under the orbit centre stays there, at the same distance, now upright.
    await page.getByTestId('tool-ground').click();
    for (const test of [isMagenta, isCyan, isOrange]) {
      const marker = pixelsWhere(view, test);
      await clickAt(marker.cx, marker.cy);
    }
    await page.getByTestId('ground-level').click();
    await expect.poll(async () => (await sceneNow()).groundAlignment, { timeout: 20_000 }).not.toBeNull();
    const m = (await sceneNow()).groundAlignment!;
    // three.js = flip · levelling · stored, flip = (x, −y, −z).
    const flip = (v: Vec3): Vec3 => [v[0], -v[1], -v[2]];
    const level = (v: Vec3): Vec3 =>
      [0, 1, 2].map(
        (r) => m[4 * r] * v[0] + m[4 * r + 1] * v[1] + m[4 * r + 2] * v[2] + m[4 * r + 3],
      ) as Vec3;
    const expectedTarget = flip(level(flip(start.target)));
    await expect
      .poll(async () => dist((await camera()).target, expectedTarget), { timeout: 20_000 })
      .toBeLessThan(1e-5);
    const levelled = await camera();
    expect(dist(levelled.position, levelled.target)).toBeCloseTo(dist(start.position, start.target), 5);
    const upright = await grab();
    await screenshot(page, 'tools-06-levelled-in-place');
    const pole = pixelsWhere(upright, isRed);
    expect(pole.n).toBeGreaterThan(100);
    const tilt = tiltFromVertical(pole);
    console.info(
      `levelled in place: pole ${tilt.toFixed(2)}° from vertical (${tiltFromVertical(pixelsWhere(view, isRed)).toFixed(2)}° before)`,
    );
    expect(tilt).toBeLessThan(3);
    await expect.poll(() => entries('ground').count(), { timeout: 20_000 }).toBe(groundsBefore + 1);

    // Ctrl+Z: not levelled any more, and the camera is back where it started.
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await sceneNow()).groundAlignment, { timeout: 20_000 }).toBeNull();
    await expect
      .poll(async () => dist((await camera()).position, start.position), { timeout: 20_000 })
      .toBeLessThan(1e-5);
    expect(dist((await camera()).target, start.target)).toBeLessThan(1e-5);
    expect(await page.getByTestId('viewport').getAttribute('data-grid')).toBe('off');
    // Ctrl+Shift+Z levels it again.
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await sceneNow()).groundAlignment, { timeout: 20_000 }).toEqual(m);
    await page.keyboard.press('Escape');
  });

  it('ran without console errors', () => {
    expect(problems).toEqual([]);
  });
});
