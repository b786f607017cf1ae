// `npm start` on a machine without the Electron runtime: one friendly line,
// then web mode with the URL to open; never a stack trace.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingPrerequisites, repoRoot } from './harness';

function electronInstalled(): boolean {
  try {
    const binary = createRequire(join(repoRoot, 'package.json'))('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary);
  } catch {
    return false;
  }
}

const skip = electronInstalled() || missingPrerequisites() !== null;

describe.skipIf(skip)('npm start without Electron', () => {
  it('says so in one line and serves web mode', async () => {
    const library = await mkdtemp(join(tmpdir(), 'g2-start-'));
    const child = spawn(process.execPath, ['scripts/start.mjs', '--library', library, '--port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL after 60 s:\n${output}`)), 60_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      const lines = output.trim().split('\n');
      expect(lines[0]).toMatch(/Electron is not installed.*web mode/);
      expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
      const url = /http:\S+/.exec(output)![0];
      const page = await fetch(url, { redirect: 'manual' });
      expect(page.status).toBe(303); // the token becomes a cookie
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(library, { recursive: true, force: true });
    }
  });
});
