// `g2studio edit|scale|measure|level|export --format colmap` as a user runs
// them: child processes on a real library holding a reconstructed scene.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneEditState, SceneSummary } from '../../../main/common/domain';
import { Library } from '../../../main/core/library/library';
import { tempDir } from '../../support/library-fixtures';
import { reconstructedFloorScene } from '../../support/reconstructed-scene';
import { REPO_ROOT } from '../../support/paths';

const ROOT = REPO_ROOT;
const CLI = join(ROOT, 'main', 'cli', 'index.ts');
const { dir, cleanup } = tempDir('g2-cli-edit-');
const library = join(dir, 'lib');
let sceneId = '';

beforeAll(async () => {
  const lib = Library.open(library);
  try {
    sceneId = await reconstructedFloorScene(lib, 'Floor');
  } finally {
    lib.close();
  }
});
afterAll(cleanup);

function g2studio(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function json<T>(...args: string[]): T {
  const run = g2studio(...args, '--json');
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('g2studio scene editing', () => {
  it('filters, lists, undoes and redoes edits by scene name', () => {
    const filtered = json<SceneEditState>(
      'edit',
      'filter',
      'Floor',
      '--score',
      'depth-edge',
      '--remove-percent',
      '10',
    );
    expect(filtered.edits).toHaveLength(1);
    expect(filtered.keptCount).toBeLessThan(filtered.pointCount);
    const cropped = json<SceneEditState>('edit', 'crop', 'Floor', '--min', '-10,-10,-10', '--max', '10,10,4');
    expect(cropped.keptCount).toBeLessThan(filtered.keptCount);
    const listed = g2studio('edit', 'list', 'Floor');
    expect(listed.stdout).toMatch(/1\s+filter depth-edge: remove worst 10%/);
    expect(listed.stdout).toMatch(/2\s+crop to/);
    expect(json<SceneEditState>('edit', 'undo', 'Floor').keptCount).toBe(filtered.keptCount);
    expect(json<SceneEditState>('edit', 'redo', 'Floor').keptCount).toBe(cropped.keptCount);
  });

  it('explains a wrong combination of options without a stack trace', () => {
    const run = g2studio('edit', 'filter', 'Floor', '--score', 'outlier');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/exactly one of --remove-percent or --threshold/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('sets a scale, measures in metres, levels, and exports a COLMAP folder in metres', () => {
    const scaled = json<SceneSummary>('scale', 'Floor', '--from', '0,1,2', '--to', '2,1,2', '--metres', '4');
    expect(scaled.metresPerUnit).toBeCloseTo(2, 12);
    expect(g2studio('measure', 'Floor', '--from', '0,0,0', '--to', '0,3,4').stdout).toMatch(
      /^10\.0000 metres/,
    );
    const levelled = json<SceneSummary>(
      'level',
      'Floor',
      '--point',
      '0,1,2',
      '--point',
      '2,1,3',
      '--point',
      '1,1,5',
    );
    expect(levelled.groundAlignment).toHaveLength(16);
    const out = join(dir, 'colmap');
    const run = g2studio('export', sceneId, '--format', 'colmap', '--out', out);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Wrote 3 cameras/);
    const images = readFileSync(join(out, 'sparse', '0', 'images.txt'), 'utf8')
      .split('\n')
      .filter((line) => /^\d+ /.test(line));
    expect(images).toHaveLength(3);
    // Camera 0 and 1 are 1 unit apart: 2 m in the export. images.txt stores world-to-camera,
    // so compare camera centres C = −Rᵀt.
    const centres = images.slice(0, 2).map((line) => {
      const [, qw, qx, qy, qz, tx, ty, tz] = line.split(' ').map(Number);
      const r = [
        [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)],
        [2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)],
        [2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)],
      ];
      const t = [tx, ty, tz];
      return [0, 1, 2].map((c) => -(r[0][c] * t[0] + r[1][c] * t[1] + r[2][c] * t[2]));
    });
    expect(Math.hypot(...centres[0].map((v, a) => v - centres[1][a]))).toBeCloseTo(2, 5);
    expect(existsSync(join(out, 'images'))).toBe(true);
    expect(json<SceneSummary>('scale', 'Floor', '--clear').metresPerUnit).toBeNull();
    // Scale and levelling are steps of the edit stack: listed, and `edit undo` takes the clearing back.
    expect(g2studio('edit', 'list', 'Floor').stdout).toMatch(
      /scale: 1 unit = 2\.00000 m\n.*level on a ground plane\n.*clear the scale/,
    );
    const undone = json<SceneEditState>('edit', 'undo', 'Floor');
    expect(undone.redo.map((stored) => stored.edit)).toEqual([
      { kind: 'scale', params: { metresPerUnit: null } },
    ]);
    expect(g2studio('measure', 'Floor', '--from', '0,0,0', '--to', '0,3,4').stdout).toMatch(
      /^10\.0000 metres/,
    );
  });
});
