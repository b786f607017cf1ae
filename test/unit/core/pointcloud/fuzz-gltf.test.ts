// Property-based fuzzing of the glTF / GLB reader (issue #11): our own GLB
// export and .gltf files with data: and external buffers, with mutated JSON
// (counts, offsets, strides, lengths, types, sparse accessors, node graphs,
// buffer URIs) and mutated container bytes (GLB lengths, chunk headers, flips
// and cuts). Every case must end in bounded time and memory in a cloud or a
// typed StudioError. See fuzz-harness.ts for the bounds and run count.
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPointCloud } from '../../../../main/core/pointcloud/export-point-cloud';
import { importPointCloud } from '../../../../main/core/pointcloud/import-point-cloud';
import {
  applyEdits,
  boundedCase,
  FUZZ_RUNS,
  FUZZ_SEED,
  fuzzFolder,
  NASTY_NUMBERS,
  type ByteEdit,
} from '../../../support/fuzz-harness';

const { dir, cleanup } = fuzzFolder('g2-fuzz-gltf-');
afterAll(cleanup);
/** The fuzzed files live one level down, so "../" URIs have something to reach for. */
const caseDir = join(dir, 'cases');

type Json = Record<string, unknown>;
let glbJson: Json;
let glbBin: Buffer;

beforeAll(async () => {
  mkdirSync(caseDir);
  writeFileSync(join(dir, 'outside.bin'), Buffer.alloc(4096, 1));
  const count = 16;
  const positions = new Float32Array(count * 3).map((_, i) => i / 7);
  const colors = new Uint8Array(count * 3).map((_, i) => i * 5);
  const path = join(dir, 'seed.glb');
  await exportPointCloud(path, { positions, colors, count }, {
    format: 'glb',
    cameras: [
      {
        frameIndex: 0,
        frameId: 'f',
        worldFromCamera: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
        intrinsics: null,
      },
    ],
  } as Parameters<typeof exportPointCloud>[2]);
  const bytes = readFileSync(path);
  const jsonLength = bytes.readUInt32LE(12);
  glbJson = JSON.parse(bytes.toString('utf8', 20, 20 + jsonLength)) as Json;
  glbBin = bytes.subarray(28 + jsonLength);
  writeFileSync(join(caseDir, 'points.bin'), glbBin);
});

function glb(json: Json, bin: Buffer): Buffer {
  let text = JSON.stringify(json);
  text += ' '.repeat((4 - (Buffer.byteLength(text) % 4)) % 4);
  const jsonBytes = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(20);
  head.writeUInt32LE(0x46546c67, 0);
  head.writeUInt32LE(2, 4);
  head.writeUInt32LE(20 + jsonBytes.length + 8 + bin.length, 8);
  head.writeUInt32LE(jsonBytes.length, 12);
  head.writeUInt32LE(0x4e4f534a, 16);
  const binHead = Buffer.alloc(8);
  binHead.writeUInt32LE(bin.length, 0);
  binHead.writeUInt32LE(0x004e4942, 4);
  return Buffer.concat([head, jsonBytes, binHead, bin]);
}

const URIS = [
  'points.bin', '/dev/zero', '/etc/passwd', '../outside.bin', '%2e%2e/outside.bin', 'file:///dev/zero',
  'http://example.com/x.bin', 'missing.bin', '.', '', 'data:application/octet-stream;base64,AAAA',
  'data:,hello', 'data:application/octet-stream;base64,!!!!', 'points.bin%00', 'a'.repeat(5000),
]; // prettier-ignore

/** Where a JSON edit lands: "accessors.N.count" style paths, N picked by the generator. */
const FIELDS = [
  'accessors.N.count', 'accessors.N.byteOffset', 'accessors.N.componentType', 'accessors.N.type',
  'accessors.N.bufferView', 'accessors.N.normalized', 'accessors.N.sparse',
  'bufferViews.N.byteOffset', 'bufferViews.N.byteLength', 'bufferViews.N.byteStride', 'bufferViews.N.buffer',
  'buffers.N.byteLength', 'buffers.N.uri', 'nodes.N.children', 'nodes.N.mesh', 'nodes.N.matrix',
  'nodes.N.rotation', 'meshes.N.primitives', 'scene', 'scenes.N.nodes', 'extensionsRequired', 'asset',
]; // prettier-ignore

const value = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS),
  fc.constantFrom(...URIS),
  fc.constantFrom(5120, 5121, 5122, 5123, 5125, 5126, 'VEC3', 'VEC4', 'SCALAR', 'MAT4', true, null, {}, []),
  fc.constantFrom(
    [0], [0, 0], [1, 0], [-1], [1e9],
    ['KHR_draco_mesh_compression'], ['KHR_mesh_quantization'],
    { count: 1, indices: { bufferView: 0, componentType: 5125 }, values: { bufferView: 0 } },
    { count: 3e8, indices: { bufferView: 0, componentType: 5121 }, values: { bufferView: 0 } },
    [{ mode: 0, attributes: { POSITION: 0, COLOR_0: 1 } }], [{ attributes: { POSITION: 5 } }],
    [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 0, 0, 0], { version: '1.0' },
  ),
); // prettier-ignore

const jsonEdit = fc.record({ field: fc.constantFrom(...FIELDS), index: fc.nat(3), value });

function applyJsonEdits(source: Json, edits: Array<{ field: string; index: number; value: unknown }>): Json {
  const json = structuredClone(source);
  for (const edit of edits) {
    const keys = edit.field.split('.').map((k) => (k === 'N' ? edit.index : k));
    let target: Record<string | number, unknown> = json;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      if (typeof next !== 'object' || next === null) {
        target[key] = typeof keys[keys.indexOf(key) + 1] === 'number' ? [] : {};
      }
      target = target[key] as Record<string | number, unknown>;
    }
    target[keys.at(-1)!] = edit.value;
  }
  return json;
}

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(64),
    value: fc.constantFrom(0, 0xff, 0x7f, 0x01),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { maxLength: 8 }),
  }),
);

describe('fuzzing the glTF / GLB reader', () => {
  it(`ends every mutated file in a cloud or a typed error, in bounded time and memory (${FUZZ_RUNS} runs)`, async () => {
    let index = 0;
    let clouds = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('glb', 'gltf-data', 'gltf-file'),
        fc.array(jsonEdit, { maxLength: 3 }),
        fc.array(byteEdit, { maxLength: 2 }),
        async (container, jsonEdits, byteEdits) => {
          let json = glbJson;
          let name = `case-${index++}.glb`;
          if (container !== 'glb') {
            const uri =
              container === 'gltf-data'
                ? `data:application/octet-stream;base64,${glbBin.toString('base64')}`
                : 'points.bin';
            json = { ...glbJson, buffers: [{ byteLength: glbBin.length, uri }] };
            name = `case-${index}.gltf`;
          }
          json = applyJsonEdits(json, jsonEdits);
          const bytes = container === 'glb' ? glb(json, glbBin) : Buffer.from(JSON.stringify(json));
          const path = join(caseDir, name);
          await boundedCase(path, applyEdits(bytes, byteEdits), async (sample) => {
            const cloud = await importPointCloud(path, { onProgress: sample });
            clouds++;
            expect(cloud.positions.length).toBe(cloud.count * 3);
            expect(cloud.positions.every(Number.isFinite)).toBe(true);
          });
        },
      ),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );
    if (FUZZ_RUNS >= 50) expect(clouds).toBeGreaterThan(0);
  });
});
