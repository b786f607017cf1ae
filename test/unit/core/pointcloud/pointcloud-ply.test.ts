// PLY read/write with real files: our own exports, and hand-written files in the
// shapes Open3D, CloudCompare and MeshLab write.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { exportPointCloud } from '../../../../main/core/pointcloud/export-point-cloud';
import { importPointCloud } from '../../../../main/core/pointcloud/import-point-cloud';
import type { PointCloud } from '../../../../main/core/pointcloud/point-cloud';
import { formatFloat32 } from '../../../../main/core/pointcloud/ply-writer';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-ply-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Deterministic pseudo-random cloud with awkward values (tiny, huge, negative, -0). */
function testCloud(count: number, withColors = true, seed = 7): PointCloud {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < positions.length; i++) positions[i] = (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4);
  if (count > 2) positions.set([-0, 1e-30, -3.4e38, 0.1, 123456.789, -7], 0);
  const colors = withColors ? new Uint8Array(count * 3).map(() => Math.floor(next() * 256)) : null;
  return { positions, colors, count };
}

async function expectCorrupt(path: string): Promise<StudioError> {
  const error = await importPointCloud(path).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StudioError);
  expect((error as StudioError).code).toBe('corrupt-media');
  expect((error as StudioError).fix.length).toBeGreaterThan(10);
  return error as StudioError;
}

/** Binary PLY body from rows of [type, value] pairs. */
function binaryRows(rows: Array<Array<[string, number]>>, littleEndian: boolean): Buffer {
  const size: Record<string, number> = { uchar: 1, int: 4, float: 4, double: 8, ushort: 2 };
  const length = rows.reduce((sum, row) => sum + row.reduce((s, [t]) => s + size[t], 0), 0);
  const view = new DataView(new ArrayBuffer(length));
  let at = 0;
  for (const row of rows)
    for (const [type, value] of row) {
      if (type === 'uchar') view.setUint8(at, value);
      if (type === 'ushort') view.setUint16(at, value, littleEndian);
      if (type === 'int') view.setInt32(at, value, littleEndian);
      if (type === 'float') view.setFloat32(at, value, littleEndian);
      if (type === 'double') view.setFloat64(at, value, littleEndian);
      at += size[type];
    }
  return Buffer.from(view.buffer);
}

const header = (lines: string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`, 'latin1');

describe('PLY export -> import', () => {
  for (const encoding of ['binary', 'ascii'] as const) {
    for (const withColors of [true, false]) {
      it(`round-trips exactly (${encoding}, ${withColors ? 'with' : 'without'} colours)`, async () => {
        const cloud = testCloud(5000, withColors);
        const path = join(work, `round-${encoding}-${withColors}.ply`);
        const { bytes } = await exportPointCloud(path, cloud, { format: 'ply', encoding });
        expect(bytes).toBe(readFileSync(path).length);
        const back = await importPointCloud(path);
        expect(back.count).toBe(5000);
        expect(Buffer.from(back.positions.buffer).equals(Buffer.from(cloud.positions.buffer))).toBe(true);
        if (withColors) expect(back.colors).toEqual(cloud.colors);
        else expect(back.colors).toBeNull();
      });
    }
  }

  it('three.js PLYLoader (what the renderer uses) reads our binary and ASCII exports', async () => {
    const cloud = testCloud(50);
    for (const encoding of ['binary', 'ascii'] as const) {
      const path = join(work, `three-${encoding}.ply`);
      await exportPointCloud(path, cloud, { format: 'ply', encoding });
      const bytes = readFileSync(path);
      const geometry = new PLYLoader().parse(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
      const position = geometry.getAttribute('position');
      expect(position.count).toBe(50);
      expect(Float32Array.from(position.array)).toEqual(cloud.positions);
    }
  });

  it('writes a standard header other tools read', async () => {
    const path = join(work, 'header.ply');
    await exportPointCloud(path, testCloud(3), { format: 'ply' });
    const text = readFileSync(path).toString('latin1');
    expect(text.slice(0, text.indexOf('end_header'))).toContain(
      'element vertex 3\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n',
    );
    expect(text.startsWith('ply\nformat binary_little_endian 1.0\n')).toBe(true);
    expect(readFileSync(path).length).toBe(text.indexOf('end_header\n') + 11 + 3 * 15);
  });

  it('formats float32 values with the shortest text that reads back exactly', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(-0)).toBe('-0');
    expect(formatFloat32(2)).toBe('2');
  });

  it('replaces an existing file atomically and leaves nothing behind when writing fails', async () => {
    const folder = join(work, 'atomic');
    mkdirSync(folder);
    const path = join(folder, 'scene.ply');
    await exportPointCloud(path, testCloud(10), { format: 'ply' });
    const before = readFileSync(path);
    // A cloud whose data turns unreadable half way through the write.
    const good = testCloud(200_000);
    const failing = new Proxy(good.positions, {
      get(target, key) {
        if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) > 300_000)
          throw new Error('source went away');
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(
      exportPointCloud(path, { ...good, positions: failing }, { format: 'ply' }),
    ).rejects.toThrow();
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(folder)).toEqual(['scene.ply']);
  });

  it('reports progress and can be cancelled half way, leaving no file (PLY and GLB export, PLY import)', async () => {
    const folder = join(work, 'cancel');
    mkdirSync(folder);
    const cloud = testCloud(400_000);
    for (const format of ['ply', 'glb'] as const) {
      const controller = new AbortController();
      const seen: number[] = [];
      const promise = exportPointCloud(join(folder, `big.${format}`), cloud, {
        format,
        signal: controller.signal,
        onProgress: (p, stage) => {
          expect(stage).toBe('write');
          seen.push(p);
          if (p > 0.4) controller.abort();
        },
      });
      await expect(promise).rejects.toMatchObject({ code: 'cancelled' });
      expect(seen.some((p) => p > 0 && p < 1)).toBe(true);
      expect(readdirSync(folder)).toEqual([]);
    }
    const path = join(folder, 'done.ply');
    const progress: number[] = [];
    await exportPointCloud(path, cloud, { format: 'ply', onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);

    const controller = new AbortController();
    const reading = importPointCloud(path, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p > 0) controller.abort();
      },
    });
    await expect(reading).rejects.toMatchObject({ code: 'cancelled' });
    const read: number[] = [];
    expect((await importPointCloud(path, { onProgress: (p) => read.push(p) })).count).toBe(400_000);
    expect(read.at(-1)).toBe(1);
  });

  it('says plainly when the target folder does not exist', async () => {
    const error = await exportPointCloud(join(work, 'no-such-folder', 'x.ply'), testCloud(3), {
      format: 'ply',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('unreadable-path');
    expect(existsSync(join(work, 'no-such-folder'))).toBe(false);
  });
});

describe('PLY files from other tools', () => {
  it('Open3D: binary little endian, double positions, normals, uchar colours', async () => {
    const path = join(work, 'open3d.ply');
    const rows: Array<Array<[string, number]>> = [
      [['double', 1.25], ['double', -2.5], ['double', 3.125], ['double', 0], ['double', 0], ['double', 1], ['uchar', 10], ['uchar', 20], ['uchar', 30]],
      [['double', 0.1], ['double', 0.2], ['double', 0.3], ['double', 1], ['double', 0], ['double', 0], ['uchar', 255], ['uchar', 0], ['uchar', 128]],
    ]; // prettier-ignore
    writeFileSync(
      path,
      Buffer.concat([
        header(['ply', 'format binary_little_endian 1.0', 'comment Created by Open3D', 'element vertex 2',
          'property double x', 'property double y', 'property double z',
          'property double nx', 'property double ny', 'property double nz',
          'property uchar red', 'property uchar green', 'property uchar blue', 'end_header']), // prettier-ignore
        binaryRows(rows, true),
      ]),
    );
    const cloud = await importPointCloud(path);
    expect(cloud.count).toBe(2);
    expect([...cloud.positions]).toEqual([
      1.25,
      -2.5,
      3.125,
      Math.fround(0.1),
      Math.fround(0.2),
      Math.fround(0.3),
    ]);
    expect([...cloud.colors!]).toEqual([10, 20, 30, 255, 0, 128]);
  });

  it('CloudCompare: obj_info line, scalar field after the colours', async () => {
    const path = join(work, 'cloudcompare.ply');
    writeFileSync(
      path,
      Buffer.concat([
        header(['ply', 'format binary_little_endian 1.0', 'comment Author: CloudCompare (TELECOM PARISTECH/EDF R&D)',
          'obj_info Generated by CloudCompare!', 'element vertex 1', 'property float x', 'property float y', 'property float z',
          'property uchar red', 'property uchar green', 'property uchar blue', 'property float scalar_Intensity', 'end_header']), // prettier-ignore
        binaryRows([[['float', 4], ['float', 5], ['float', 6], ['uchar', 1], ['uchar', 2], ['uchar', 3], ['float', 0.5]]], true), // prettier-ignore
      ]),
    );
    const cloud = await importPointCloud(path);
    expect([...cloud.positions, ...cloud.colors!]).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('MeshLab: ASCII with CRLF, alpha, and a face element after the vertices', async () => {
    const path = join(work, 'meshlab.ply');
    const text = ['ply', 'format ascii 1.0', 'comment VCGLIB generated', 'element vertex 3', 'property float x', 'property float y',
      'property float z', 'property uchar red', 'property uchar green', 'property uchar blue', 'property uchar alpha',
      'element face 1', 'property list uchar int vertex_indices', 'end_header',
      '0 0 0 255 0 0 255', '1 0 0 0 255 0 255', '0 1 0 0 0 255 255', '3 0 1 2', ''].join('\r\n'); // prettier-ignore
    writeFileSync(path, text);
    const cloud = await importPointCloud(path);
    expect([...cloud.positions]).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect([...cloud.colors!]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('big endian with float r/g/b colours and a face element (list) before the vertices', async () => {
    const path = join(work, 'big-endian.ply');
    const face = binaryRows([[['uchar', 3], ['int', 0], ['int', 1], ['int', 2]], [['uchar', 4], ['int', 0], ['int', 1], ['int', 2], ['int', 0]]], false); // prettier-ignore
    const vertices = binaryRows([
      [['float', -1.5], ['float', 2], ['float', 8], ['float', 1], ['float', 0.5], ['float', 0]],
      [['float', 3], ['float', 4], ['float', 5], ['float', 0], ['float', 2], ['float', -1]],
    ], false); // prettier-ignore
    writeFileSync(
      path,
      Buffer.concat([
        header(['ply', 'format binary_big_endian 1.0', 'element face 2', 'property list uchar int vertex_indices',
          'element vertex 2', 'property float x', 'property float y', 'property float z',
          'property float r', 'property float g', 'property float b', 'end_header']), // prettier-ignore
        face,
        vertices,
      ]),
    );
    const cloud = await importPointCloud(path);
    expect([...cloud.positions]).toEqual([-1.5, 2, 8, 3, 4, 5]);
    expect([...cloud.colors!]).toEqual([255, 128, 0, 0, 255, 0]); // float 0..1, clamped
  });

  it('diffuse_red/green/blue colours as ushort', async () => {
    const path = join(work, 'diffuse.ply');
    writeFileSync(
      path,
      Buffer.concat([
        header(['ply', 'format binary_little_endian 1.0', 'element vertex 1', 'property float x', 'property float y', 'property float z',
          'property ushort diffuse_red', 'property ushort diffuse_green', 'property ushort diffuse_blue', 'end_header']), // prettier-ignore
        binaryRows([[['float', 1], ['float', 2], ['float', 3], ['ushort', 65535], ['ushort', 0], ['ushort', 32896]]], true), // prettier-ignore
      ]),
    );
    expect([...(await importPointCloud(path)).colors!]).toEqual([255, 0, 128]);
  });
});

describe('damaged PLY files', () => {
  it('a truncated binary file says how many points it has', async () => {
    const path = join(work, 'cut.ply');
    await exportPointCloud(path, testCloud(1000), { format: 'ply' });
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 15 * 400 - 7));
    const error = await expectCorrupt(path);
    expect(error.message).toContain('of 1000 points');
  });

  it('a truncated ASCII file', async () => {
    const path = join(work, 'cut-ascii.ply');
    await exportPointCloud(path, testCloud(1000), { format: 'ply', encoding: 'ascii' });
    const text = readFileSync(path, 'latin1');
    writeFileSync(path, text.slice(0, Math.floor(text.length * 0.7)), 'latin1');
    await expectCorrupt(path);
  });

  it('broken headers and data', async () => {
    const cases: Record<string, string> = {
      'no-end.ply': 'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n',
      'bad-format.ply': 'ply\nformat binary_middle_endian 1.0\nelement vertex 0\nend_header\n',
      'bad-type.ply': 'ply\nformat ascii 1.0\nelement vertex 1\nproperty quad x\nend_header\n1\n',
      'no-xyz.ply':
        'ply\nformat ascii 1.0\nelement vertex 1\nproperty float u\nproperty float v\nend_header\n1 2\n',
      'not-numbers.ply':
        'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 two 3\n',
      'huge-count.ply':
        'ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(work, name), text);
      await expectCorrupt(join(work, name));
    }
  });

  it('a file that is not a point cloud at all', async () => {
    const path = join(work, 'notes.ply');
    writeFileSync(path, 'hello');
    await expect(importPointCloud(path)).rejects.toMatchObject({ code: 'unsupported-file' });
    await expect(importPointCloud(join(work, 'missing.ply'))).rejects.toMatchObject({
      code: 'unreadable-path',
    });
  });
});
