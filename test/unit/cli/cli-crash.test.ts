// Kill `g2studio import` at several moments (ingest, store) and reopen: the
// library is intact, no half scene is listed, and the interrupted import shows
// in the job history as failed.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../main/common/domain';
import { Library } from '../../../main/core/library/library';
import { tempDir } from '../../support/library-fixtures';
import { REPO_ROOT } from '../../support/paths';

const ROOT = REPO_ROOT;
const CLI = join(ROOT, 'main', 'cli', 'index.ts');
const WALK = join(ROOT, '..', 'shared', 'samples', 'video', 'dl3dv-walk.mp4');

const { dir, cleanup } = tempDir('g2-cli-crash-');
const library = join(dir, 'lib');
afterAll(cleanup);

/** Run an import and SIGKILL it once its progress output reaches `stage` (or it ends). */
function importKilledAt(stage: string, extraDelayMs: number): Promise<{ killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, '--library', library, 'import', WALK, '--frames', '20'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let armed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      if (!armed && chunk.toString().includes(`import: ${stage}`)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.on('exit', (_code, signal) => resolve({ killed: signal === 'SIGKILL' }));
  });
}

describe('g2studio import killed mid-way', () => {
  it('leaves no half scene and records the interrupted job as failed', async () => {
    let kills = 0;
    for (const [stage, delay] of [
      ['probe', 0],
      ['decode', 100],
      ['score', 0],
      ['store', 0],
      ['store', 20],
    ] as const) {
      const { killed } = await importKilledAt(stage, delay);
      if (killed) kills++;
      const lib = Library.open(library);
      try {
        expect(lib.integrityCheck()).toBe('ok');
        for (const scene of lib.scenes.list()) {
          const detail = lib.scenes.get(scene.id);
          // A listed scene is whole: its frames, with images, all there.
          expect(detail?.frames.filter((f) => f.selected)).toHaveLength(20);
          expect(lib.scenes.frameImages(scene.id)).toHaveLength(20);
        }
        const orphans = lib.db
          .prepare('SELECT COUNT(*) AS n FROM frames WHERE scene_id NOT IN (SELECT id FROM scenes)')
          .get() as { n: number };
        expect(orphans.n).toBe(0);
        // Nothing is left "running" after the reopen.
        const jobs: JobInfo[] = lib.jobs.list();
        expect(jobs.filter((j) => j.status === 'running' || j.status === 'queued')).toEqual([]);
        // Each stored scene's import reads as succeeded (scene and job row commit together).
        for (const scene of lib.scenes.list()) {
          expect(jobs.find((j) => j.sceneId === scene.id)).toMatchObject({
            kind: 'import',
            status: 'succeeded',
          });
        }
      } finally {
        lib.close();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    const lib = Library.open(library);
    try {
      const failed = lib.jobs.list().filter((j) => j.status === 'failed');
      expect(failed.length).toBeGreaterThanOrEqual(kills - 1);
      expect(failed[0].error?.message).toMatch(/stopped while this job was running/);
    } finally {
      lib.close();
    }
  });
});
