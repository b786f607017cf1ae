// SQLite-style fault test: a process writing big scenes is SIGKILLed at
// several moments mid-write; the reopened library must pass integrity_check
// and list only complete scenes (no half scene, no orphan rows).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Library } from '../../../../main/core/library/library';
import { tempDir } from '../../../support/library-fixtures';
import { REPO_ROOT } from '../../../support/paths';

const FRAMES = 40; // 40 x 0.5 MB images
const POINTS = 1_000_000; // 12 MB positions + 3 MB colours
const CHILD = join(REPO_ROOT, 'test', 'support', 'write-scenes-child.ts');

interface KillOutcome {
  begun: number;
  ended: number;
}

/** Start the writer, wait until scene `target` has begun, wait `delayMs` more, SIGKILL. */
function runAndKill(libraryDir: string, target: number, delayMs: number): Promise<KillOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, libraryDir, String(FRAMES), String(POINTS)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let begun = -1;
    let ended = -1;
    let stderr = '';
    let killTimer: NodeJS.Timeout | null = null;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        const [what, n] = line.split(' ');
        if (what === 'begin') begun = Number(n);
        if (what === 'end') ended = Number(n);
        if (what === 'begin' && Number(n) === target && !killTimer) {
          killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${code}): ${stderr}`));
      else resolve({ begun, ended });
    });
  });
}

const { dir, cleanup } = tempDir('g2-crash-');
afterAll(cleanup);

describe('library crash safety', () => {
  it('leaves the old or the new state when the writer is SIGKILLed mid-write', async () => {
    const libraryDir = join(dir, 'lib');
    let expectedScenes = 0;
    let killedMidWrite = 0;
    // Kill at several moments: right at the start of a write, partway, late.
    const delays = [0, 15, 40, 80, 150, 5];
    for (const [round, delayMs] of delays.entries()) {
      const outcome = await runAndKill(libraryDir, round === 0 ? 0 : 1, delayMs);
      const library = Library.open(libraryDir);
      try {
        expect(library.integrityCheck()).toBe('ok');
        const scenes = library.scenes.list();
        // Every scene this writer finished is there; the one it was writing is
        // there only if its commit completed before the kill.
        const committedThisRound = scenes.length - expectedScenes;
        expect(committedThisRound).toBeGreaterThanOrEqual(outcome.ended + 1);
        expect(committedThisRound).toBeLessThanOrEqual(outcome.begun + 1);
        if (committedThisRound === outcome.begun) killedMidWrite++;
        expectedScenes = scenes.length;
        for (const scene of scenes) {
          expect(scene.frameCount).toBe(FRAMES);
          expect(scene.pointCount).toBe(POINTS);
          expect(library.scenes.positionsBytes(scene.id)?.byteLength).toBe(POINTS * 12);
        }
        // No rows of a scene that is not listed (a half-written scene).
        const orphans = library.db
          .prepare(
            `SELECT (SELECT COUNT(*) FROM frames WHERE scene_id NOT IN (SELECT id FROM scenes))
                  + (SELECT COUNT(*) FROM scene_points WHERE scene_id NOT IN (SELECT id FROM scenes)) AS n`,
          )
          .get() as { n: number };
        expect(orphans.n).toBe(0);
      } finally {
        library.close();
      }
    }
    // The test means something only if kills really landed inside a write.
    expect(killedMidWrite).toBeGreaterThanOrEqual(3);
  });
});
