// `g2studio export --up-axis`, as a user runs it: a child process on a real
// library folder and real files. Points with known coordinates go in (OpenCV
// axes: x right, y down, z forward) and the exported PLY is read back with a
// parser of its own, so the test checks the documented rotations:
//   opencv (default) (x, y, z) · y-up (x, -y, -z) · z-up (x, z, -y).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneDetail } from '../../../main/common/domain';
import { tempDir } from '../../support/library-fixtures';
import { REPO_ROOT } from '../../support/paths';
import { writeBinaryPly } from '../../support/ply-fixture';

const CLI = join(REPO_ROOT, 'main', 'cli', 'index.ts');
const { dir, cleanup } = tempDir('g2-cli-axes-');
const library = join(dir, 'lib');
afterAll(cleanup);

// Distinct magnitudes per axis, exactly representable in float32.
const KNOWN = [
  [1, 2, 3],
  [-4, 5.5, -6.25],
  [0.5, -0.75, 8],
];

function g2studio(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--library', library, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A binary little-endian PLY's header lines and its vertices' x, y, z (float properties first, as we write). */
function readPlyVertices(path: string): { header: string[]; points: number[][] } {
  const bytes = readFileSync(path);
  const end = bytes.indexOf('end_header\n') + 'end_header\n'.length;
  const header = bytes.subarray(0, end).toString('latin1').trim().split('\n');
  expect(header[1]).toBe('format binary_little_endian 1.0');
  const count = Number(header.find((line) => line.startsWith('element vertex '))?.split(' ')[2]);
  const properties = header.filter((line) => line.startsWith('property '));
  expect(properties.slice(0, 3)).toEqual(['property float x', 'property float y', 'property float z']);
  const stride = properties.reduce((sum, line) => sum + (line.includes(' float ') ? 4 : 1), 0);
  const points: number[][] = [];
  for (let i = 0; i < count; i++)
    points.push([0, 1, 2].map((axis) => bytes.readFloatLE(end + i * stride + axis * 4)));
  return { header, points };
}

describe('g2studio export --up-axis', () => {
  let sceneId = '';

  beforeAll(() => {
    const source = join(dir, 'known.ply');
    writeBinaryPly(source, new Float32Array(KNOWN.flat()), new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]));
    const run = g2studio('import', source, '--name', 'Known', '--json');
    expect(run.status, run.stderr).toBe(0);
    sceneId = (JSON.parse(run.stdout) as SceneDetail).id;
  });

  it('states the choices and the default in --help', () => {
    const help = g2studio('export', '--help');
    expect(help.status).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--up-axis <axis>/);
    expect(text).toMatch(/default: opencv/);
    expect(text).toMatch(/choices: "opencv", "y-up", "z-up"/);
  });

  it('writes OpenCV axes by default, and y-up / z-up rotated as documented', () => {
    const cases = [
      { args: [], axes: 'OpenCV axes', map: ([x, y, z]: number[]) => [x, y, z] },
      { args: ['--up-axis', 'opencv'], axes: 'OpenCV axes', map: ([x, y, z]: number[]) => [x, y, z] },
      { args: ['--up-axis', 'y-up'], axes: 'y-up axes', map: ([x, y, z]: number[]) => [x, -y, -z] },
      { args: ['--up-axis', 'z-up'], axes: 'z-up axes', map: ([x, y, z]: number[]) => [x, z, -y] },
    ];
    for (const [n, { args, axes, map }] of cases.entries()) {
      const out = join(dir, `known-${n}.ply`);
      const run = g2studio('export', sceneId, '--out', out, ...args);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(`Wrote 3 points to ${out}`);
      const { header, points } = readPlyVertices(out);
      expect(
        header.some((line) => line.startsWith('comment ') && line.includes(axes)),
        axes,
      ).toBe(true);
      expect(points, args.join(' ') || 'default').toEqual(KNOWN.map(map));
    }
    // The library keeps no staging copy of a CLI export.
    expect(readdirSync(join(library, 'exports'))).toEqual([]);
  });

  it('refuses an up axis GLB cannot hold, or one for a camera folder, before writing anything', () => {
    const glb = join(dir, 'known.glb');
    const zUpGlb = g2studio('export', sceneId, '--out', glb, '--up-axis', 'z-up');
    expect(zUpGlb.status).not.toBe(0);
    expect(zUpGlb.stderr).toMatch(/GLB files are always y-up .*--up-axis z-up cannot be written\./);
    expect(zUpGlb.stderr).toMatch(/Fix: Drop --up-axis, or export PLY\./);
    expect(existsSync(glb)).toBe(false);

    const colmap = g2studio(
      'export',
      sceneId,
      '--format',
      'colmap',
      '--out',
      join(dir, 'cm'),
      '--up-axis',
      'y-up',
    );
    expect(colmap.status).not.toBe(0);
    expect(colmap.stderr).toMatch(/--up-axis applies to PLY and GLB only, not colmap\./);

    const unknown = g2studio('export', sceneId, '--out', join(dir, 'x.ply'), '--up-axis', 'x-up');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/Allowed choices are opencv, y-up, z-up/);
    expect(existsSync(join(dir, 'x.ply'))).toBe(false);

    // y-up is what GLB is anyway, so it is accepted.
    const yUpGlb = g2studio('export', sceneId, '--out', glb, '--up-axis', 'y-up');
    expect(yUpGlb.status, yUpGlb.stderr).toBe(0);
    expect(readFileSync(glb).subarray(0, 4).toString('latin1')).toBe('glTF');
  });
});
