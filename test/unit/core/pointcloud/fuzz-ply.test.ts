// Property-based fuzzing of the PLY reader (issue #11): valid PLY files in the
// shapes real tools write, with mutated headers (counts, types, extra
// elements, lists), then flipped, cut or inserted bytes. Every case must end
// in bounded time and memory in a cloud or a typed StudioError; a returned
// cloud must be consistent. See fuzz-harness.ts for the bounds and run count.
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

const { dir, cleanup } = fuzzFolder('g2-fuzz-ply-');
afterAll(cleanup);

interface Seed {
  header: string[];
  body: Buffer;
}

function seeds(): Seed[] {
  const n = 20;
  const le = Buffer.alloc(n * 15);
  const be = Buffer.alloc(n * 48);
  for (let i = 0; i < n; i++) {
    le.writeFloatLE(i, i * 15);
    le.writeFloatLE(-i / 3, i * 15 + 4);
    le.writeFloatLE(i * 7, i * 15 + 8);
    le.writeUInt8(i * 10, i * 15 + 12);
    for (let k = 0; k < 6; k++) be.writeDoubleBE(i + k / 10, i * 48 + k * 8);
  }
  const face = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]), le]);
  const listed = Buffer.alloc(n * 14);
  for (let i = 0; i < n; i++) {
    listed.writeFloatLE(i, i * 14);
    listed.writeFloatLE(i, i * 14 + 4);
    listed.writeFloatLE(i, i * 14 + 8);
    listed.writeUInt8(1, i * 14 + 12);
    listed.writeUInt8(i, i * 14 + 13);
  }
  const ascii = Array.from({ length: n }, (_, i) => `${i} ${-i / 4} ${i * 1e-3} ${i} 20 30\n`).join('');
  const xyz = ['property float x', 'property float y', 'property float z'];
  const rgb = ['property uchar red', 'property uchar green', 'property uchar blue'];
  return [
    { header: ['format binary_little_endian 1.0', `element vertex ${n}`, ...xyz, ...rgb], body: le },
    {
      header: ['format binary_big_endian 1.0', `element vertex ${n}`, 'property double x', 'property double y', 'property double z', 'property double nx', 'property double ny', 'property double nz'],
      body: be,
    },
    { header: ['format ascii 1.0', `element vertex ${n}`, ...xyz, ...rgb], body: Buffer.from(ascii) },
    {
      header: ['format binary_little_endian 1.0', 'element face 1', 'property list uchar int vertex_indices', `element vertex ${n}`, ...xyz, ...rgb],
      body: face,
    },
    { header: ['format binary_little_endian 1.0', `element vertex ${n}`, ...xyz, 'property list uchar uchar tags'], body: listed },
  ]; // prettier-ignore
}

const TYPES = [
  'char',
  'uchar',
  'short',
  'ushort',
  'int',
  'uint',
  'float',
  'double',
  'int8',
  'float64',
  'bogus',
];
const nasty = fc.oneof(fc.constantFrom(...NASTY_NUMBERS), fc.integer({ min: -5, max: 100_000 }));

/** One change to the header's lines. */
const headerEdit = fc.oneof(
  fc.record({ kind: fc.constant('count' as const), line: fc.nat(), value: nasty }),
  fc.record({
    kind: fc.constant('insert' as const),
    line: fc.nat(),
    text: fc.oneof(
      nasty.map((n) => `element junk ${n}`),
      fc
        .tuple(fc.constantFrom(...TYPES), fc.constantFrom('x', 'y', 'z', 'red', 'q'))
        .map(([t, n]) => `property ${t} ${n}`),
      fc
        .tuple(fc.constantFrom(...TYPES), fc.constantFrom(...TYPES))
        .map(([c, t]) => `property list ${c} ${t} items`),
      fc.constantFrom(
        'comment hi',
        'format ascii 1.0',
        'format binary_big_endian 1.0',
        'end_header',
        'element vertex',
        'property',
        '',
      ),
    ),
  }),
  fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }),
);

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0xff, 0x80, 0x7f, 0x0a, 0x20),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { maxLength: 8 }),
  }),
);

type HeaderEdit =
  | { kind: 'count'; line: number; value: number }
  | { kind: 'insert'; line: number; text: string }
  | { kind: 'drop'; line: number };

function mutateHeader(lines: string[], edits: HeaderEdit[]): string[] {
  const out = [...lines];
  for (const edit of edits) {
    const at = edit.line % (out.length + 1);
    if (edit.kind === 'insert') out.splice(at, 0, edit.text);
    else if (edit.kind === 'drop') out.splice(at, 1);
    else {
      const elements = out.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('element '));
      if (elements.length === 0) continue;
      const [line, index] = elements[edit.line % elements.length];
      out[index] = line.replace(/\S+$/, String(edit.value));
    }
  }
  return out;
}

describe('fuzzing the PLY reader', () => {
  it(`ends every mutated file in a cloud or a typed error, in bounded time and memory (${FUZZ_RUNS} runs)`, async () => {
    const all = seeds();
    let index = 0;
    let clouds = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(all.length - 1),
        fc.array(headerEdit, { maxLength: 3 }),
        fc.array(byteEdit, { maxLength: 3 }),
        async (seedIndex, headerEdits, byteEdits) => {
          const seed = all[seedIndex];
          const header = Buffer.from(
            `${['ply', ...mutateHeader(seed.header, headerEdits), 'end_header'].join('\n')}\n`,
            'latin1',
          );
          const bytes = applyEdits(Buffer.concat([header, seed.body]), byteEdits);
          const path = join(dir, `case-${index++}.ply`);
          await boundedCase(path, bytes, async (sample) => {
            const cloud = await importPointCloud(path, { onProgress: sample });
            clouds++;
            // A cloud read from a file is whole and finite, and no bigger than the file allows.
            expect(cloud.positions.length).toBe(cloud.count * 3);
            if (cloud.colors) expect(cloud.colors.length).toBe(cloud.count * 3);
            expect(cloud.positions.every(Number.isFinite)).toBe(true);
            expect(cloud.count + cloud.droppedNonFinite).toBeLessThanOrEqual(bytes.length);
          });
        },
      ),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );
    // The generator must also produce readable files, or it only tests the first check.
    if (FUZZ_RUNS >= 50) expect(clouds).toBeGreaterThan(0);
  });
});
