// `g2studio frames` as a user runs it: a child process on a real library
// folder, a video imported by real ffmpeg, and a reconstructed scene stored the
// way a reconstruction stores it.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameInfo, SceneDetail } from '../../../main/common/domain';
import { Library } from '../../../main/core/library/library';
import { tempDir } from '../../support/library-fixtures';
import { REPO_ROOT } from '../../support/paths';
import { reconstructedFloorScene } from '../../support/reconstructed-scene';
import { SHARED_DIR } from '../../support/shared-dir';

const CLI = join(REPO_ROOT, 'main', 'cli', 'index.ts');
const WALK = join(SHARED_DIR, 'samples', 'video', 'dl3dv-walk.mp4');

const { dir, cleanup } = tempDir('g2-cli-frames-');
const library = join(dir, 'lib');
afterAll(cleanup);

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function g2studio(...args: string[]): CliRun {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface FramesJson {
  sceneId: string;
  selectedCount: number;
  reconstruction: { id: string; usedFrameIds: string[] } | null;
  outOfDate: boolean;
  frames: Array<FrameInfo & { used: boolean }>;
}

function json<T>(run: CliRun): T {
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const selectedIndices = (frames: FrameInfo[]): number[] =>
  frames.filter((f) => f.selected).map((f) => f.index);

let walkId = '';
let floorId = '';

beforeAll(async () => {
  walkId = json<SceneDetail>(g2studio('import', WALK, '--frames', '5', '--json')).id;
  // The CLI process has closed the library; add a reconstructed scene to it.
  const lib = Library.open(library);
  try {
    floorId = await reconstructedFloorScene(lib, 'Floor');
  } finally {
    lib.close();
  }
}, 180_000);

describe('g2studio frames', () => {
  it('lists the frames with --json: sharpness, selection, nothing used before a reconstruction', () => {
    const listed = json<FramesJson>(g2studio('frames', walkId, '--json'));
    expect(listed.sceneId).toBe(walkId);
    expect(listed.frames).toHaveLength(15);
    expect(listed.selectedCount).toBe(5);
    expect(listed.reconstruction).toBeNull();
    expect(listed.outOfDate).toBe(false);
    expect(listed.frames.every((f) => f.blurScore > 0 && f.used === false)).toBe(true);
  });

  it('--reselect runs the automatic selection again, then --select/--deselect adjust it', () => {
    const eight = json<FramesJson>(g2studio('frames', walkId, '--reselect', '8', '--json'));
    expect(eight.selectedCount).toBe(8);
    const chosen = selectedIndices(eight.frames);
    const unchosen = eight.frames.filter((f) => !f.selected).map((f) => f.index);
    const adjusted = json<FramesJson>(
      g2studio(
        'frames',
        walkId,
        '--deselect',
        `${chosen[0]},${chosen[1]}`,
        '--select',
        String(unchosen[0]),
        '--json',
      ),
    );
    expect(selectedIndices(adjusted.frames)).toEqual([...chosen.slice(2), unchosen[0]].sort((a, b) => a - b));
    // The human listing says the same.
    const shown = g2studio('frames', walkId);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/INDEX\s+TIME\s+SHARPNESS\s+SELECTED\s+USED\s+ID/);
    expect(shown.stdout).toContain('7 of 15 frames selected.');
    expect(shown.stdout).toContain(`Not reconstructed yet: g2studio reconstruct ${walkId}`);
  });

  it('ranges select several frames at once', () => {
    const ranged = json<FramesJson>(g2studio('frames', walkId, '--select', '10-14', '--json'));
    for (const index of [10, 11, 12, 13, 14]) expect(ranged.frames[index].selected).toBe(true);
  });

  it('refuses a frame the scene does not have, or one both selected and deselected, and changes nothing', () => {
    const before = json<FramesJson>(g2studio('frames', walkId, '--json'));
    const missing = g2studio('frames', walkId, '--select', '3,99', '--deselect', '4');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/has no frame 99; the selection was not changed/);
    expect(missing.stderr).toMatch(/Name frames 0 to 14/);
    expect(missing.stderr).not.toMatch(/\n\s+at .+[:(]/);
    const both = g2studio('frames', walkId, '--select', '3', '--deselect', '2-4');
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/Frame 3 is both selected and deselected/);
    const garbled = g2studio('frames', walkId, '--select', 'two');
    expect(garbled.status).not.toBe(0);
    expect(garbled.stderr).toMatch(/"two" is not a frame index/);
    expect(json<FramesJson>(g2studio('frames', walkId, '--json')).frames).toEqual(before.frames);
  });

  it('shows which frames the reconstruction used, and says when the selection has moved on', () => {
    const fresh = json<FramesJson>(g2studio('frames', 'Floor', '--json'));
    expect(fresh.reconstruction?.usedFrameIds).toEqual(fresh.frames.map((f) => f.id));
    expect(fresh.outOfDate).toBe(false);
    expect(g2studio('frames', floorId).stdout).toContain('The reconstruction used the selected frames.');

    const changed = g2studio('frames', 'Floor', '--deselect', '1');
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^1\s+0\.200 s\s+101\.0\s+no\s+yes\s+frm_/m);
    expect(changed.stdout).toContain(
      `The reconstruction used 3 frames; the selection differs (0 added, 1 removed). Reconstruct to use it: g2studio reconstruct ${floorId}`,
    );
    const after = json<FramesJson>(g2studio('frames', floorId, '--json'));
    expect(after.outOfDate).toBe(true);
    expect(after.frames.map((f) => [f.selected, f.used])).toEqual([
      [true, true],
      [false, true],
      [true, true],
    ]);
  });
});
