// `g2studio import <folder>` on a COLMAP project and a transforms.json folder,
// as a user runs it: the CLI says what it found and the scene has the
// capture's frames, cameras and points.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneDetail } from '../../../main/common/domain';
import { tempDir } from '../../support/library-fixtures';
import { REPO_ROOT } from '../../support/paths';
import {
  writeColmapProject,
  writeTransformsCapture,
  type PosedFixture,
} from '../../support/posed-capture-fixtures';

const CLI = join(REPO_ROOT, 'main', 'cli', 'index.ts');
const { dir, cleanup } = tempDir('g2-cli-posed-');
const library = join(dir, 'lib');
let colmap: PosedFixture;
let nerf: PosedFixture;

beforeAll(async () => {
  colmap = await writeColmapProject(join(dir, 'garden'));
  nerf = await writeTransformsCapture(join(dir, 'living-room'));
});
afterAll(cleanup);

function g2studio(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('g2studio import of posed captures', () => {
  it('says what a COLMAP project holds and imports its cameras and points', () => {
    const run = g2studio('import', colmap.dir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Found a COLMAP model (text, sparse/0): 4 images, 2 cameras, 300 points.');
    expect(run.stdout).toMatch(/Imported "garden" as scn_[0-9a-f]+: 4 frames, 300 points\./);
    const shown = g2studio('show', 'garden', '--json');
    expect(shown.status, shown.stderr).toBe(0);
    const scene = JSON.parse(shown.stdout) as SceneDetail;
    expect(scene.cameras).toHaveLength(4);
    expect(new Set(scene.cameras.map((c) => c.intrinsics?.fx))).toEqual(new Set([50.5, 70]));
  });

  it('says what a transforms.json folder holds', () => {
    const run = g2studio('import', join(nerf.dir, 'transforms.json'));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Found a transforms.json: 3 images, 1 camera, 200 points.');
  });
});
