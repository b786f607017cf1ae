// A point cloud import never freezes the web server (issue #11 item 4): while a
// big import or a hostile 157-byte PLY is being read, the server keeps
// answering other requests and a cancel takes effect. The server runs as its
// own process (`g2studio serve`), so a frozen server fails this test by its
// request deadline instead of freezing the test runner.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../support/paths';
import type { JobInfo } from '../../../../main/common/domain';
import { tempDir } from '../../../support/library-fixtures';

const ROOT = REPO_ROOT;
const CLI = join(ROOT, 'main', 'cli', 'index.ts');
/** Longest an answer may take while an import runs (a loaded 2-core CI machine; a frozen server never answers). */
const MAX_ANSWER_MS = 1500;

const { dir, cleanup } = tempDir('g2-import-server-');
let child: ChildProcess;
let origin: string;
let token: string;

async function call<T>(name: string, input: unknown): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const response = await fetch(new URL('/api/call', origin), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name, input }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!body.ok) throw new Error(`${name}: ${body.error?.message}`);
  return { ms: performance.now() - started, result: body.result };
}

/** ASCII PLY of `count` points, written in pieces (the slowest format to parse per byte). */
async function writeAsciiPly(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(
    `ply\nformat ascii 1.0\nelement vertex ${count}\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n`,
  );
  for (let first = 0; first < count; first += 100_000) {
    const lines: string[] = [];
    for (let i = first; i < Math.min(count, first + 100_000); i++)
      lines.push(
        `${(i % 1000) * 0.001} ${Math.floor(i / 1000) * 0.001} ${(i % 7) * 0.25} ${i % 256} 128 64\n`,
      );
    if (!out.write(lines.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--library', join(dir, 'lib'), 'serve', '--port', '0', '--json'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        resolve(JSON.parse(stdout) as { url: string; token: string });
      } catch {
        // not the whole document yet
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL`)));
  });
  origin = new URL(started.url).origin;
  token = started.token;
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  cleanup();
});

async function job(jobId: string): Promise<JobInfo> {
  const { result } = await call<JobInfo[]>('jobs.list', {});
  const found = result.find((j) => j.id === jobId);
  if (!found) throw new Error(`job ${jobId} is not listed`);
  return found;
}

describe('imports and the web server', () => {
  it('a hostile 157-byte PLY (2^53 empty records) does not freeze the server; the import ends', async () => {
    const path = join(dir, 'junk.ply');
    const header =
      'ply\nformat binary_little_endian 1.0\nelement junk 9007199254740991\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n';
    const data = Buffer.alloc(12);
    data.writeFloatLE(1, 0);
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path);
      out.end(Buffer.concat([Buffer.from(header, 'latin1'), data]), () => resolve());
      out.on('error', reject);
    });
    const { result } = await call<{ jobId: string }>('scenes.import', { sources: [{ kind: 'path', path }] });
    const answers: number[] = [];
    let info = await job(result.jobId);
    for (let i = 0; i < 100 && (info.status === 'queued' || info.status === 'running'); i++) {
      answers.push((await call('scenes.list', {})).ms);
      info = await job(result.jobId);
    }
    expect(info.status, info.error?.message).toBe('succeeded');
    expect(info.result).toMatchObject({ pointCount: 1 });
    expect(Math.max(0, ...answers)).toBeLessThan(MAX_ANSWER_MS);
  });

  it('a big import leaves the server answering, and cancel stops it', async () => {
    const path = join(dir, 'big.ply');
    await writeAsciiPly(path, 1_500_000);
    const { result } = await call<{ jobId: string }>('scenes.import', { sources: [{ kind: 'path', path }] });
    const answers: number[] = [];
    let info = await job(result.jobId);
    const started = Date.now();
    // Ask for other things while it reads; the first answers come while the import runs.
    while (info.status === 'queued' || (info.status === 'running' && answers.length < 10)) {
      answers.push((await call('scenes.list', {})).ms);
      info = await job(result.jobId);
      if (Date.now() - started > 60_000) break;
    }
    expect(info.status, 'the import ended before the test could cancel it; make the file bigger').toBe(
      'running',
    );
    const cancelAsked = Date.now();
    await call('jobs.cancel', { jobId: result.jobId });
    while (info.status === 'running' && Date.now() - cancelAsked < 10_000) {
      answers.push((await call('scenes.list', {})).ms);
      info = await job(result.jobId);
    }
    expect(info.status).toBe('cancelled');
    expect(Date.now() - cancelAsked).toBeLessThan(5000);
    expect(Math.max(...answers)).toBeLessThan(MAX_ANSWER_MS);
    const scenes = (await call<Array<{ name: string }>>('scenes.list', {})).result;
    expect(scenes.map((s) => s.name)).not.toContain('big'); // a cancelled import leaves nothing
  });
});
