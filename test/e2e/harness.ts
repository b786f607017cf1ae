// Starts the real studio for browser tests: the built CLI (`g2studio serve`)
// on a fresh library, and Chromium with WebGL on SwiftShader (no GPU needed).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JobInfo } from '../../main/common/domain';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import sharp from 'sharp';
import { CHROMIUM_PATH, SOFTWARE_WEBGL_ARGS } from '../../main/bench/headless-chromium';

export const repoRoot = resolve(__dirname, '..', '..');
export const artifactsDir = join(repoRoot, 'test-artifacts', 'e2e');
const cliPath = join(repoRoot, 'out', 'main', 'cli.js');
const rendererIndex = join(repoRoot, 'out', 'renderer', 'index.html');
export { CHROMIUM_PATH };

export interface StudioUnderTest {
  /** The printed URL, with ?token=… */
  url: string;
  origin: string;
  token: string;
  port: number;
  workDir: string;
  stop(): Promise<void>;
}

/** One API call over the web bridge with the session token; throws the error's message. */
export async function callApi<T>(studio: StudioUnderTest, name: string, input: unknown): Promise<T> {
  const response = await fetch(`${studio.origin}/api/call`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${studio.token}` },
    body: JSON.stringify({ name, input }),
  });
  const body = (await response.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!body.ok) throw new Error(`${name}: ${body.error?.message}`);
  return body.result;
}

/** Polls jobs.list until the job has finished, and returns it. */
export async function waitForJobOver(studio: StudioUnderTest, jobId: string): Promise<JobInfo> {
  for (;;) {
    const job = (await callApi<JobInfo[]>(studio, 'jobs.list', {})).find((item) => item.id === jobId);
    if (job && !['queued', 'running'].includes(job.status)) return job;
    await new Promise((done) => setTimeout(done, 250));
  }
}

export function missingPrerequisites(): string | null {
  if (!existsSync(cliPath) || !existsSync(rendererIndex)) return 'the app is not built: run `npm run build`';
  if (!existsSync(CHROMIUM_PATH))
    return `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`;
  return null;
}

/**
 * `node out/main/cli.js --library <library> serve --port 0`, URL read from its
 * output. Without a library a fresh one is made in a temp folder that stop()
 * removes; a given library outlives the server (restart tests).
 */
export async function startStudio(opts: { library?: string } = {}): Promise<StudioUnderTest> {
  const workDir = await mkdtemp(join(tmpdir(), 'g2-e2e-'));
  const library = opts.library ?? join(workDir, 'library');
  const child: ChildProcess = spawn(
    process.execPath,
    [cliPath, '--library', library, 'serve', '--port', '0'],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`g2studio serve printed no URL in 60 s:\n${output}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`g2studio serve exited with ${code}:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    port: Number(parsed.port),
    workDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      ...SOFTWARE_WEBGL_ARGS,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Console errors and CSP violations of a page, to assert the app runs clean under its policy. */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export interface CanvasRgb {
  /** Three bytes per pixel, row by row. */
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The scene's canvas as RGB bytes. Waits first: the viewer renders on demand
 * and a SwiftShader frame of a few thousand points can take a second.
 */
export async function sceneCanvasRgb(page: Page, settleMs = 1500): Promise<CanvasRgb> {
  await page.waitForTimeout(settleMs);
  const png = await page.locator('[data-testid=scene-view] canvas').screenshot();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
