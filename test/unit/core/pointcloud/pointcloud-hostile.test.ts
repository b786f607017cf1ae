// Point cloud files an attacker or a broken tool could hand the studio (issue
// #11): each must end quickly, in bounded memory, in a result or a typed
// error. Imports that could hang run in a child process under a deadline, so a
// regression fails the test instead of freezing the runner.
import { Accessor, Document, NodeIO, Primitive } from '@gltf-transform/core';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import type { Points } from 'three';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../support/paths';
import { api } from '../../../../main/common/api';
import { linearToSrgb } from '../../../../main/core/pointcloud/color-space';
import { exportPointCloud } from '../../../../main/core/pointcloud/export-point-cloud';
import { importPointCloud } from '../../../../main/core/pointcloud/import-point-cloud';
import type { PointCloud } from '../../../../main/core/pointcloud/point-cloud';

const CHILD = join(REPO_ROOT, 'test', 'support', 'pointcloud-import-child.ts');

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-hostile-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ChildReport {
  ok: boolean;
  count?: number;
  droppedNonFinite?: number;
  code?: string;
  message?: string;
  fix?: string;
  peakArrayBuffers: number;
  maxRssKb: number;
}

/** Resident memory of a process in KB (Linux), or 0 once it is gone. */
function residentKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Hard bounds for one hostile import: these files are a few hundred bytes. */
const MAX_CHILD_RSS_KB = 700 * 1024;

/**
 * Imports `path` in a child process, watched from outside: killed and failed
 * when it takes over `seconds` or grows past MAX_CHILD_RSS_KB, so an unbounded
 * reader fails the test instead of taking the machine.
 */
async function importInChild(path: string, seconds = 30): Promise<ChildReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let killedFor: string | null = null;
  let peakKb = 0;
  const started = Date.now();
  const watch = setInterval(() => {
    peakKb = Math.max(peakKb, residentKb(child.pid ?? 0));
    if (peakKb > MAX_CHILD_RSS_KB) killedFor = `memory grew past ${MAX_CHILD_RSS_KB >> 10} MB`;
    else if (Date.now() - started > seconds * 1000) killedFor = `it did not end within ${seconds} s`;
    if (killedFor) child.kill('SIGKILL');
  }, 20);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  clearInterval(watch);
  expect(killedFor, `import of ${path}`).toBeNull();
  const line = stdout.trim().split('\n').at(-1) ?? '';
  expect(line, `child failed: ${stderr.split('\n').slice(-3).join(' ')}`).toMatch(/^\{/);
  const report = JSON.parse(line) as ChildReport;
  expect(report.peakArrayBuffers).toBeLessThan(64 << 20);
  expect(report.maxRssKb).toBeLessThan(MAX_CHILD_RSS_KB);
  return report;
}

function expectTyped(report: ChildReport, code: string): void {
  expect(report.ok, JSON.stringify(report)).toBe(false);
  expect(report.code, report.message).toBe(code);
  expect(report.fix?.length ?? 0).toBeGreaterThan(10);
}

const plyHeader = (lines: string[]): Buffer =>
  Buffer.from(`${['ply', ...lines, 'end_header'].join('\n')}\n`, 'latin1');

function floats(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

describe('hostile PLY files', () => {
  it('an element of 2^53 zero-byte records before the points neither hangs nor blocks (157-byte file)', async () => {
    const path = join(work, 'junk.ply');
    writeFileSync(
      path,
      Buffer.concat([
        plyHeader([
          'format binary_little_endian 1.0',
          'element junk 9007199254740991',
          'element vertex 1',
          'property float x',
          'property float y',
          'property float z',
        ]),
        floats([1, 2, 3]),
      ]),
    );
    expect(readFileSync(path).length).toBeLessThan(200);
    const report = await importInChild(path, 20);
    expect(report).toMatchObject({ ok: true, count: 1 });
  });

  it('the same in ASCII: records without properties take no line', async () => {
    const path = join(work, 'junk-ascii.ply');
    writeFileSync(
      path,
      Buffer.concat([
        plyHeader([
          'format ascii 1.0',
          'element junk 9007199254740991',
          'element vertex 1',
          'property float x',
          'property float y',
          'property float z',
        ]),
        Buffer.from('1 2 3\n'),
      ]),
    );
    expect(await importInChild(path, 20)).toMatchObject({ ok: true, count: 1 });
  });

  it('a list whose length is -1 is damaged, not an endless loop', async () => {
    const path = join(work, 'minus-one.ply');
    const record = Buffer.alloc(4);
    record.writeInt32LE(-1, 0);
    writeFileSync(
      path,
      Buffer.concat([
        plyHeader([
          'format binary_little_endian 1.0',
          'element junk 3',
          'property list int int items',
          'element vertex 1',
          'property float x',
          'property float y',
          'property float z',
        ]),
        record,
        record,
        record,
        floats([1, 2, 3]),
      ]),
    );
    expectTyped(await importInChild(path, 20), 'corrupt-media');
  });

  it('a face element before a vertex count of 4e9 is refused against the file size, before allocating', async () => {
    const path = join(work, 'face-first.ply');
    writeFileSync(
      path,
      Buffer.concat([
        plyHeader([
          'format binary_little_endian 1.0',
          'element face 1',
          'property list uchar int vertex_indices',
          'element vertex 4000000000',
          'property float x',
          'property float y',
          'property float z',
        ]),
        Buffer.from([0]),
        floats([1, 2, 3]),
      ]),
    );
    const report = await importInChild(path, 20);
    expectTyped(report, 'corrupt-media');
    expect(report.message).not.toMatch(/typed array/i);
    expect(report.message).toMatch(/4000000000/);
  });

  it('a list claiming 2^32 items is refused before the reader grows a buffer for it', async () => {
    const path = join(work, 'huge-list.ply');
    const record = Buffer.alloc(4);
    record.writeUInt32LE(0xffffffff, 0);
    writeFileSync(
      path,
      Buffer.concat([
        plyHeader([
          'format binary_little_endian 1.0',
          'element vertex 1',
          'property float x',
          'property float y',
          'property float z',
          'property list uint double stuff',
        ]),
        floats([1, 2, 3]),
        record,
        Buffer.alloc(1 << 16),
      ]),
    );
    await expect(importPointCloud(path)).rejects.toMatchObject({ code: 'corrupt-media' });
  });
});

describe('non-finite points', () => {
  it('are dropped at import (ASCII nan/inf/-inf/Infinity and binary), and the import says how many', async () => {
    const ascii = join(work, 'nonfinite-ascii.ply');
    writeFileSync(
      ascii,
      Buffer.concat([
        plyHeader([
          'format ascii 1.0',
          'element vertex 6',
          'property float x',
          'property float y',
          'property float z',
          'property uchar red',
          'property uchar green',
          'property uchar blue',
        ]),
        Buffer.from(
          '1 2 3 10 20 30\nnan 0 0 1 1 1\n4 inf 6 2 2 2\n7 8 -inf 3 3 3\nInfinity 0 0 4 4 4\n9 9 9 40 50 60\n',
        ),
      ]),
    );
    const cloud = await importPointCloud(ascii);
    expect(cloud.count).toBe(2);
    expect(cloud.droppedNonFinite).toBe(4);
    expect([...cloud.positions]).toEqual([1, 2, 3, 9, 9, 9]);
    expect([...cloud.colors!]).toEqual([10, 20, 30, 40, 50, 60]);

    const binary = join(work, 'nonfinite-binary.ply');
    writeFileSync(
      binary,
      Buffer.concat([
        plyHeader([
          'format binary_little_endian 1.0',
          'element vertex 3',
          'property float x',
          'property float y',
          'property float z',
        ]),
        floats([NaN, 1, 1, 5, 6, 7, 1, Infinity, 1]),
      ]),
    );
    expect(await importPointCloud(binary)).toMatchObject({ count: 1, droppedNonFinite: 2 });
  });

  it('are never written by the PLY export, whose header count is the points written', async () => {
    const cloud: PointCloud = {
      positions: new Float32Array([1, 2, 3, NaN, 0, 0, 4, 5, 6, 0, -Infinity, 0]),
      colors: new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]),
      count: 4,
    };
    for (const encoding of ['ascii', 'binary'] as const) {
      const path = join(work, `nan-out-${encoding}.ply`);
      const { pointCount } = await exportPointCloud(path, cloud, { format: 'ply', encoding });
      expect(pointCount).toBe(2);
      const text = readFileSync(path).toString('latin1');
      expect(text).toContain('element vertex 2\n');
      expect(text).not.toMatch(/nan|inf/i);
      const back = await importPointCloud(path);
      expect(back).toMatchObject({ count: 2, droppedNonFinite: 0 });
      expect([...back.positions]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...back.colors!]).toEqual([1, 1, 1, 3, 3, 3]);
    }
  });

  it('GLB export: the JSON count equals the points written and the count reported', async () => {
    const path = join(work, 'nan.glb');
    const cloud: PointCloud = {
      positions: new Float32Array([1, 2, 3, NaN, 0, 0, 4, 5, 6]),
      colors: null,
      count: 3,
    };
    const { pointCount } = await exportPointCloud(path, cloud, { format: 'glb' });
    expect(pointCount).toBe(2);
    const bytes = readFileSync(path);
    const json = JSON.parse(bytes.toString('utf8', 20, 20 + bytes.readUInt32LE(12))) as {
      accessors: Array<{ count: number }>;
      bufferViews: Array<{ byteLength: number; byteStride?: number }>;
    };
    expect(json.accessors[0].count).toBe(2);
    expect(json.bufferViews[0].byteLength).toBe(2 * (json.bufferViews[0].byteStride ?? 12));
  });
});

/** A GLB from JSON and a BIN chunk, with the header's total length (or a wrong one). */
function glb(json: object, bin: Buffer, totalDelta = 0): Buffer {
  let text = JSON.stringify(json);
  text += ' '.repeat((4 - (text.length % 4)) % 4);
  const binPadded = Buffer.concat([bin, Buffer.alloc((4 - (bin.length % 4)) % 4)]);
  const head = Buffer.alloc(20);
  const total = 20 + text.length + 8 + binPadded.length;
  head.writeUInt32LE(0x46546c67, 0);
  head.writeUInt32LE(2, 4);
  head.writeUInt32LE(total + totalDelta, 8);
  head.writeUInt32LE(text.length, 12);
  head.writeUInt32LE(0x4e4f534a, 16);
  const binHead = Buffer.alloc(8);
  binHead.writeUInt32LE(binPadded.length, 0);
  binHead.writeUInt32LE(0x004e4942, 4);
  return Buffer.concat([head, Buffer.from(text, 'utf8'), binHead, binPadded]);
}

/** Minimal glTF JSON: one POINTS primitive whose POSITION is accessor 0. */
function pointsJson(extra: { accessors: object[]; bufferViews: object[]; buffers: object[] }): object {
  return {
    asset: { version: '2.0' },
    scene: 0,
    scenes: [{ nodes: [0] }],
    nodes: [{ mesh: 0 }],
    meshes: [{ primitives: [{ mode: 0, attributes: { POSITION: 0 } }] }],
    ...extra,
  };
}

const fourPoints = floats([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]); // 48 bytes

describe('hostile glTF / GLB files', () => {
  it('an accessor count of 1e9 over a 48-byte bufferView is refused', async () => {
    const path = join(work, 'count.glb');
    writeFileSync(
      path,
      glb(
        pointsJson({
          accessors: [{ bufferView: 0, componentType: 5126, count: 1e9, type: 'VEC3' }],
          bufferViews: [{ buffer: 0, byteLength: 48 }],
          buffers: [{ byteLength: 48 }],
        }),
        fourPoints,
      ),
    );
    const report = await importInChild(path);
    expectTyped(report, 'corrupt-media');
    expect(report.message).toMatch(/1000000000/);
  });

  it('a wrong GLB total length is refused', async () => {
    const json = pointsJson({
      accessors: [{ bufferView: 0, componentType: 5126, count: 4, type: 'VEC3' }],
      bufferViews: [{ buffer: 0, byteLength: 48 }],
      buffers: [{ byteLength: 48 }],
    });
    const good = join(work, 'good.glb');
    writeFileSync(good, glb(json, fourPoints));
    expect(await importInChild(good)).toMatchObject({ ok: true, count: 4 });
    for (const delta of [-4, 4, 1e6]) {
      const path = join(work, `length${delta}.glb`);
      writeFileSync(path, glb(json, fourPoints, delta));
      expectTyped(await importInChild(path), 'corrupt-media');
    }
  });

  it('a 528-byte GLB whose sparse accessor claims 3e8 points is refused before allocating', async () => {
    const path = join(work, 'sparse.glb');
    const indices = Buffer.alloc(4);
    const values = floats([1, 2, 3]);
    const json = pointsJson({
      accessors: [
        {
          componentType: 5126,
          count: 3e8,
          type: 'VEC3',
          sparse: {
            count: 1,
            indices: { bufferView: 0, componentType: 5125 },
            values: { bufferView: 1 },
          },
        },
      ],
      bufferViews: [
        { buffer: 0, byteLength: 4 },
        { buffer: 0, byteOffset: 4, byteLength: 12 },
      ],
      buffers: [{ byteLength: 16 }],
    });
    const bytes = glb(json, Buffer.concat([indices, values]));
    expect(bytes.length).toBeLessThan(600);
    writeFileSync(path, bytes);
    expectTyped(await importInChild(path), 'corrupt-media');
  });

  it('reads exactly byteLength bytes, and refuses /dev/zero and other non-regular files as buffers', async () => {
    const folder = join(work, 'devzero');
    mkdirSync(folder);
    const json = (uri: string) =>
      JSON.stringify(
        pointsJson({
          accessors: [{ bufferView: 0, componentType: 5126, count: 4, type: 'VEC3' }],
          bufferViews: [{ buffer: 0, byteLength: 48 }],
          buffers: [{ uri, byteLength: 48 }],
        }),
      );
    writeFileSync(join(folder, 'zero.gltf'), json('/dev/zero'));
    expectTyped(await importInChild(join(folder, 'zero.gltf'), 20), 'unsupported-file');
    // A symlink beside the file that leads to a device.
    symlinkSync('/dev/zero', join(folder, 'zero.bin'));
    writeFileSync(join(folder, 'link.gltf'), json('zero.bin'));
    expectTyped(await importInChild(join(folder, 'link.gltf'), 20), 'unsupported-file');
    // A FIFO beside the file: opening it for reading would wait for a writer forever.
    const fifo = spawnSync('mkfifo', [join(folder, 'pipe.bin')]);
    if (fifo.status === 0) {
      writeFileSync(join(folder, 'fifo.gltf'), json('pipe.bin'));
      expectTyped(await importInChild(join(folder, 'fifo.gltf'), 20), 'unsupported-file');
    }
    // A regular .bin longer than byteLength: only byteLength bytes are read.
    writeFileSync(join(folder, 'long.bin'), Buffer.concat([fourPoints, Buffer.alloc(1 << 20, 7)]));
    writeFileSync(join(folder, 'long.gltf'), json('long.bin'));
    expect(await importInChild(join(folder, 'long.gltf'))).toMatchObject({ ok: true, count: 4 });
  });

  it("buffer URIs may only name files inside the glTF file's folder (or be data: URIs)", async () => {
    const outside = join(work, 'outside');
    const folder = join(outside, 'scene');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'secret.bin'), fourPoints);
    writeFileSync(join(folder, 'sub', 'points.bin'), fourPoints);
    symlinkSync(join(outside, 'secret.bin'), join(folder, 'sneaky.bin'));
    const write = (name: string, uri: string): string => {
      const path = join(folder, name);
      writeFileSync(
        path,
        JSON.stringify(
          pointsJson({
            accessors: [{ bufferView: 0, componentType: 5126, count: 4, type: 'VEC3' }],
            bufferViews: [{ buffer: 0, byteLength: 48 }],
            buffers: [{ uri, byteLength: 48 }],
          }),
        ),
      );
      return path;
    };
    for (const uri of [
      '../secret.bin',
      'sub/../../secret.bin',
      '%2e%2e/secret.bin',
      join(outside, 'secret.bin'),
      `file://${join(outside, 'secret.bin')}`,
      'https://example.com/points.bin',
      'sneaky.bin',
    ]) {
      const error = await importPointCloud(write('bad.gltf', uri)).catch((e: unknown) => e);
      expect(error, uri).toMatchObject({ name: 'StudioError', code: 'unsupported-file' });
    }
    expect((await importPointCloud(write('ok.gltf', 'sub/points.bin'))).count).toBe(4);
    expect((await importPointCloud(write('esc.gltf', 'sub%2Fpoints.bin'))).count).toBe(4);
    const dataUri = `data:application/octet-stream;base64,${fourPoints.toString('base64')}`;
    expect((await importPointCloud(write('data.gltf', dataUri))).count).toBe(4);
  });

  it('a node cycle is damaged, not an endless walk', async () => {
    const path = join(work, 'cycle.glb');
    const json = {
      ...pointsJson({
        accessors: [{ bufferView: 0, componentType: 5126, count: 4, type: 'VEC3' }],
        bufferViews: [{ buffer: 0, byteLength: 48 }],
        buffers: [{ byteLength: 48 }],
      }),
      nodes: [{ mesh: 0, children: [1] }, { children: [0] }],
    };
    writeFileSync(path, glb(json, fourPoints));
    await expect(importPointCloud(path)).rejects.toMatchObject({ code: 'corrupt-media' });
  });
});

describe('GLB colours and quantised glTF (#12)', () => {
  it('writes COLOR_0 linear: a stored 90 shows as 90 in three.js, and every byte round-trips exactly', async () => {
    const count = 256;
    const positions = new Float32Array(count * 3).map((_, i) => i);
    const colors = new Uint8Array(count * 3).map((_, i) => Math.floor(i / 3));
    const path = join(work, 'colours.glb');
    await exportPointCloud(path, { positions, colors, count }, { format: 'glb' });
    const bytes = readFileSync(path);
    const gltf = await new GLTFLoader().parseAsync(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      '',
    );
    const points = gltf.scene.getObjectByName('points') as Points;
    const color = points.geometry.getAttribute('color');
    // three.js treats COLOR_0 as linear and converts to sRGB for display.
    expect(Math.round(linearToSrgb(color.getX(90)) * 255)).toBe(90);
    const back = await importPointCloud(path);
    expect(back.colors).toEqual(colors);
  });

  it('reads quantised files (KHR_mesh_quantization, as gltfpack writes them): int16/uint8 normalized, node scale', async () => {
    const doc = new Document();
    const buffer = doc.createBuffer();
    const position = doc
      .createAccessor()
      .setType(Accessor.Type.VEC3)
      .setArray(new Int16Array([0, 0, 0, 32767, 0, 0, 0, -32767, 16384, 0, 0, 0]))
      .setNormalized(true)
      .setBuffer(buffer);
    const positionInts = doc
      .createAccessor()
      .setType(Accessor.Type.VEC3)
      .setArray(new Uint16Array([1, 2, 3]))
      .setBuffer(buffer);
    const color = doc
      .createAccessor()
      .setType(Accessor.Type.VEC4)
      .setArray(new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 255]))
      .setNormalized(true)
      .setBuffer(buffer);
    const points = doc
      .createPrimitive()
      .setMode(Primitive.Mode.POINTS)
      .setAttribute('POSITION', position)
      .setAttribute('COLOR_0', color);
    const ints = doc.createPrimitive().setMode(Primitive.Mode.POINTS).setAttribute('POSITION', positionInts);
    const scene = doc.createScene();
    scene.addChild(
      doc
        .createNode()
        .setScale([2, 2, 2])
        .setTranslation([1, 0, 0])
        .setMesh(doc.createMesh().addPrimitive(points)),
    );
    scene.addChild(doc.createNode().setMesh(doc.createMesh().addPrimitive(ints)));
    const { json, resources } = await new NodeIO().writeJSON(doc, { format: 'GLB' as never });
    json.extensionsUsed = ['KHR_mesh_quantization'];
    json.extensionsRequired = ['KHR_mesh_quantization'];
    const path = join(work, 'quantised.glb');
    writeFileSync(path, glb(json, Buffer.from(Object.values(resources)[0])));
    const cloud = await importPointCloud(path);
    expect(cloud.count).toBe(5);
    // glTF (x, y, z) -> OpenCV (x, -y, -z); int16 normalized is v / 32767, then scale 2 and +1 in x.
    const expected = [1, 0, 0, 3, 0, 0, 1, 2, (-2 * 16384) / 32767, 1, 0, 0, 1, -2, -3];
    cloud.positions.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect([...cloud.colors!.subarray(0, 12)]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0]);
  });
});

describe('the export contract', () => {
  it('scenes.export refuses an ASCII GLB', () => {
    const schema = api['scenes.export'].input;
    expect(schema.safeParse({ sceneId: 'scn_1', format: 'glb', encoding: 'ascii' }).success).toBe(false);
    expect(schema.safeParse({ sceneId: 'scn_1', format: 'glb' }).success).toBe(true);
    expect(schema.safeParse({ sceneId: 'scn_1', format: 'ply', encoding: 'ascii' }).success).toBe(true);
    expect(schema.safeParse({ sceneId: 'scn_1', format: 'ply', upAxis: 'z-up' }).success).toBe(true);
    expect(schema.safeParse({ sceneId: 'scn_1', format: 'glb', upAxis: 'z-up' }).success).toBe(false);
  });

  it("PLY exports y-up or z-up on request, say so in the header, and read back in the studio's axes", async () => {
    const cloud: PointCloud = { positions: new Float32Array([1, 2, 3]), colors: null, count: 1 };
    const expected = { opencv: [1, 2, 3], 'y-up': [1, -2, -3], 'z-up': [1, 3, -2] } as const;
    for (const upAxis of ['opencv', 'y-up', 'z-up'] as const) {
      const path = join(work, `axes-${upAxis}.ply`);
      await exportPointCloud(path, cloud, { format: 'ply', upAxis });
      const bytes = readFileSync(path);
      const text = bytes.toString('latin1');
      const dataAt = text.indexOf('end_header\n') + 11;
      expect(text.slice(0, dataAt)).toContain(upAxis === 'opencv' ? 'OpenCV axes' : `${upAxis} axes`);
      expect([0, 1, 2].map((i) => bytes.readFloatLE(dataAt + i * 4))).toEqual(expected[upAxis]);
      expect([...(await importPointCloud(path)).positions]).toEqual([1, 2, 3]);
    }
    await expect(
      exportPointCloud(join(work, 'z.glb'), cloud, { format: 'glb', upAxis: 'z-up' }),
    ).rejects.toMatchObject({
      code: 'invalid-input',
    });
  });
});
