// `reconstruct --estimate` and `ask --estimate` as a user runs them: a child
// process on a real library, real ffmpeg frames, and the golden checkpoint as
// the model. They print the engine's estimate and run nothing.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/library-fixtures';
import { REPO_ROOT } from '../../support/paths';
import { SHARED_DIR } from '../../support/shared-dir';

const CLI = join(REPO_ROOT, 'main', 'cli', 'index.ts');
const WALK = join(SHARED_DIR, 'samples', 'video', 'dl3dv-walk.mp4');
const MODEL = join(SHARED_DIR, 'golden', 'g2vlm-tiny-a', 'checkpoint');
const { dir, cleanup } = tempDir('g2-cli-estimate-');
afterAll(cleanup);

function g2studio(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', join(dir, 'lib'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface EstimateJson {
  estimate: {
    peakBytes: number;
    availableBytes: number;
    fits: boolean;
    maxFrames: number;
    frameCount: number;
  };
}

describe('g2studio --estimate', () => {
  it('prints the reconstruction and question estimates for the selected frames without running', () => {
    const imported = g2studio('--json', 'import', WALK, '--frames', '12', '--name', 'walk');
    expect(imported.status, imported.stderr).toBe(0);
    const recon = g2studio('--json', 'reconstruct', 'walk', '--model', MODEL, '--estimate');
    expect(recon.status, recon.stderr).toBe(0);
    const r = (JSON.parse(recon.stdout) as EstimateJson).estimate;
    expect(r.frameCount).toBe(12);
    expect(r.peakBytes).toBeGreaterThan(0);
    expect(r.fits).toBe(r.peakBytes <= r.availableBytes);
    // A question goes to the model with at most 8 frames.
    const ask = g2studio('--json', 'ask', 'walk', 'How far is the door?', '--model', MODEL, '--estimate');
    expect(ask.status, ask.stderr).toBe(0);
    const a = (JSON.parse(ask.stdout) as EstimateJson).estimate;
    expect(a.frameCount).toBe(8);
    expect(a.peakBytes).toBeGreaterThan(0);
    const line = g2studio('ask', 'walk', 'How far is the door?', '--model', MODEL, '--estimate');
    expect(line.stdout).toMatch(
      /^A question over 8 frames needs about [\d.]+ (MiB|GiB) \([\d.]+ GiB available\): (fits\.|does not fit)/,
    );
    // Nothing ran: the scene has no points and no question was stored.
    const shown = JSON.parse(g2studio('--json', 'show', 'walk').stdout) as { pointCount: number };
    expect(shown.pointCount).toBe(0);
    expect(JSON.parse(g2studio('--json', 'history', 'walk').stdout)).toEqual([]);
  }, 300_000);
});
