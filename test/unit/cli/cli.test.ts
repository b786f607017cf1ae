// The g2studio CLI end to end, as a user runs it: a child process on a real
// library folder, real ffmpeg, real files.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SceneDetail, SceneSummary } from '../../../main/common/domain';
import { syntheticPoints, tempDir } from '../../support/library-fixtures';
import { writeBinaryPly } from '../../support/ply-fixture';
import { REPO_ROOT } from '../../support/paths';

const ROOT = REPO_ROOT;
const CLI = join(ROOT, 'main', 'cli', 'index.ts');
const WALK = join(ROOT, '..', 'shared', 'samples', 'video', 'dl3dv-walk.mp4');

const { dir, cleanup } = tempDir('g2-cli-');
const library = join(dir, 'lib');
afterAll(cleanup);

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function g2studio(...args: string[]): CliRun {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function json<T>(run: CliRun): T {
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** A failure as a user should see it: non-zero exit, message + fix, no stack trace. */
function expectCleanFailure(run: CliRun, message: RegExp): void {
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at .+[:(]/); // no stack frames
  expect(run.stderr).not.toMatch(/node:internal|\.ts:\d+/);
}

describe('g2studio CLI', () => {
  let walkId = '';

  it('imports a video with --json and prints the created scene with its id', () => {
    const scene = json<SceneDetail>(g2studio('import', WALK, '--frames', '5', '--json'));
    expect(scene.id).toMatch(/^scn_/);
    expect(scene).toMatchObject({ name: 'dl3dv-walk', kind: 'video' });
    expect(scene.frames.filter((f) => f.selected)).toHaveLength(5);
    walkId = scene.id;
  });

  it('import reports the frames it selected, not the candidates it scored', () => {
    const run = g2studio('import', WALK, '--frames', '6', '--name', 'Six frames');
    expect(run.status, run.stderr).toBe(0);
    const said =
      /^Imported "Six frames" as (scn_\S+): 6 frames selected from (\d+) candidates, 0 points\.$/m.exec(
        run.stdout,
      );
    expect(said, run.stdout).not.toBeNull();
    const [, sceneId, candidates] = said ?? [];
    const scene = json<SceneDetail>(g2studio('show', sceneId, '--json'));
    expect(scene.frames.filter((f) => f.selected)).toHaveLength(6);
    expect(scene.frames).toHaveLength(Number(candidates));
    expect(Number(candidates)).toBeGreaterThan(6);
    expect(g2studio('delete', sceneId).status).toBe(0);
  });

  it('shows the scene with --json: frames with their displayed width and height', () => {
    const scene = json<SceneDetail>(g2studio('show', walkId, '--json'));
    expect(scene.id).toBe(walkId);
    expect(scene.frames.length).toBeGreaterThanOrEqual(5);
    for (const frame of scene.frames) expect([frame.width, frame.height]).toEqual([960, 540]);
    // Plain output for people, and the scene can be found by name too.
    const text = g2studio('show', 'dl3dv-walk');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/960x540/);
    expect(text.stdout).toMatch(/h264/);
  });

  it('imports a PLY point cloud and exports it as binary PLY, ASCII PLY and GLB', () => {
    const points = syntheticPoints(2_000);
    const plyIn = join(dir, 'cloud.ply');
    writeBinaryPly(plyIn, points.positions, points.colors);
    const scene = json<SceneDetail>(g2studio('import', plyIn, '--name', 'Cloud', '--json'));
    expect(scene).toMatchObject({ kind: 'pointcloud', pointCount: 2_000, frameCount: 0 });

    const plyOut = join(dir, 'out', 'cloud-export.ply');
    const exported = json<{ path: string; bytes: number; pointCount: number }>(
      g2studio('export', scene.id, '--format', 'ply', '--out', plyOut, '--json'),
    );
    expect(exported).toMatchObject({ path: plyOut, pointCount: 2_000 });
    const bytes = readFileSync(plyOut);
    expect(bytes.byteLength).toBe(exported.bytes);
    // The library keeps no staging copy of a CLI export.
    expect(readdirSync(join(library, 'exports'))).toEqual([]);
    const header = bytes.subarray(0, bytes.indexOf('end_header')).toString('latin1');
    expect(header).toMatch(/format binary_little_endian/);
    expect(header).toMatch(/element vertex 2000/);

    const asciiOut = join(dir, 'out', 'cloud-ascii.ply');
    expect(g2studio('export', 'Cloud', '--format', 'ply', '--ascii', '--out', asciiOut).status).toBe(0);
    expect(readFileSync(asciiOut, 'latin1')).toMatch(/format ascii 1\.0/);

    const glbOut = join(dir, 'out', 'cloud.glb');
    expect(g2studio('export', 'Cloud', '--format', 'glb', '--out', glbOut).status).toBe(0);
    expect(readFileSync(glbOut).subarray(0, 4).toString('latin1')).toBe('glTF');

    // Round trip: the exported PLY imports back to the same number of points.
    const back = json<SceneDetail>(g2studio('import', plyOut, '--name', 'Cloud again', '--json'));
    expect(back.pointCount).toBe(2_000);
    expect(g2studio('delete', back.id).status).toBe(0);
  });

  it('export infers the format from the name, refuses a contradicting name, and overwrites only with --force', () => {
    const out = join(dir, 'out', 'guarded.ply');
    const inferred = g2studio('export', 'Cloud', '--out', out);
    expect(inferred.status, inferred.stderr).toBe(0);
    const first = readFileSync(out);
    expect(first.subarray(0, 4).toString('latin1')).toBe('ply\n');

    // An existing file stays as it was without --force, and the error says how to replace it.
    expectCleanFailure(
      g2studio('export', 'Cloud', '--format', 'ply', '--ascii', '--out', out),
      /Error: .*guarded\.ply already exists\.\nFix: Add --force to replace it, or choose another --out\./,
    );
    expect(readFileSync(out).equals(first)).toBe(true);
    const forced = g2studio('export', 'Cloud', '--format', 'ply', '--ascii', '--out', out, '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(out, 'latin1')).toMatch(/^ply\nformat ascii 1\.0/);

    // GLB bytes never go into a file named .ply; nothing is written.
    const misnamed = join(dir, 'out', 'misnamed.ply');
    expectCleanFailure(
      g2studio('export', 'Cloud', '--format', 'glb', '--out', misnamed),
      /Error: "misnamed\.ply" is named as a PLY file, but --format is glb\.\nFix: Name it misnamed\.glb, or use --format ply\./,
    );
    expect(existsSync(misnamed)).toBe(false);
    const glbOut = join(dir, 'out', 'inferred.glb');
    expect(g2studio('export', 'Cloud', '--out', glbOut).status).toBe(0);
    expect(readFileSync(glbOut).subarray(0, 4).toString('latin1')).toBe('glTF');

    expectCleanFailure(
      g2studio('export', 'Cloud', '--out', join(dir, 'out', 'cloud.txt')),
      /Error: Cannot tell the export format from "cloud\.txt"\.\nFix: Add --format/,
    );
    // --force never replaces a folder (here: the folder holding the exports above).
    expectCleanFailure(
      g2studio('export', 'Cloud', '--format', 'colmap', '--out', join(dir, 'out'), '--force'),
      /already exists, and --force does not replace folders/,
    );
    expect(readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(readdirSync(join(library, 'exports'))).toEqual([]);
  });

  it('fails cleanly on bad inputs and leaves the scene list unchanged', () => {
    const before = json<SceneSummary[]>(g2studio('list', '--json'));
    const empty = join(dir, 'empty.mp4');
    const text = join(dir, 'notes.mp4');
    writeFileSync(empty, '');
    writeFileSync(text, 'shopping list\n'.repeat(50));

    expectCleanFailure(g2studio('import', empty), /Error: .*empty[\s\S]*Fix: /);
    expectCleanFailure(g2studio('import', text), /Error: "notes\.mp4" is not a video[\s\S]*Fix: /);
    expectCleanFailure(
      g2studio('import', join(dir, 'missing.mp4')),
      /Error: .*missing\.mp4.* does not exist[\s\S]*Fix: /,
    );
    expectCleanFailure(
      g2studio('import', WALK, '--frames', '1'),
      /--frames must be a whole number from 2 to 512/,
    );
    expectCleanFailure(g2studio('show', 'no-such-scene'), /Error: There is no scene "no-such-scene"/);
    expectCleanFailure(
      g2studio('export', walkId, '--format', 'ply', '--out', join(dir, 'x.ply')),
      /no point cloud/,
    );
    expectCleanFailure(
      g2studio('export', walkId, '--format', 'obj', '--out', join(dir, 'x.obj')),
      /ply, glb/,
    );
    expectCleanFailure(
      g2studio('reconstruct', walkId, '--model', join(dir, 'no-model')),
      /Error: .*no-model/,
    );
    expect(existsSync(join(dir, 'x.ply'))).toBe(false);

    // --json failures still say what went wrong, as JSON on stdout.
    const failed = g2studio('import', text, '--json');
    expect(failed.status).not.toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({ error: { code: 'unsupported-file' } });

    expect(json<SceneSummary[]>(g2studio('list', '--json'))).toEqual(before);
  });

  it('renames and deletes a scene; info reports library, ffmpeg and providers', () => {
    expect(g2studio('rename', walkId, 'Garden walk').stdout).toMatch(/Garden walk/);
    expect(json<SceneSummary[]>(g2studio('list', '--json')).find((s) => s.id === walkId)?.name).toBe(
      'Garden walk',
    );
    expect(g2studio('history', walkId).stdout).toMatch(/No questions/);
    expect(g2studio('delete', walkId).status).toBe(0);
    expect(json<SceneSummary[]>(g2studio('list', '--json')).map((s) => s.id)).not.toContain(walkId);

    const info = json<{
      libraryPath: string;
      ffmpeg: { version: string } | null;
      executionProviders: string[];
    }>(g2studio('info', '--json'));
    expect(info.libraryPath).toBe(library);
    expect(info.ffmpeg?.version).toBeTruthy();
    expect(info.executionProviders).toContain('cpu');
  });

  it('serve prints a tokenised loopback URL, answers API calls with the token, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, '--library', library, 'serve', '--port', '0', '--json'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          resolve(JSON.parse(stdout) as { url: string; token: string });
        } catch {
          // not the whole document yet
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL`)));
    });
    try {
      const url = new URL(started.url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.searchParams.get('token')).toBe(started.token);
      const call = (token: string | null) =>
        fetch(new URL('/api/call', url.origin), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ name: 'scenes.list', input: {} }),
        });
      const ok = await call(started.token);
      expect(ok.status).toBe(200);
      const listed = (await ok.json()) as { ok: boolean; result: SceneSummary[] };
      expect(listed.ok).toBe(true);
      expect(listed.result.map((s) => s.name)).toContain('Cloud');
      expect((await call(null)).status).toBe(401);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
