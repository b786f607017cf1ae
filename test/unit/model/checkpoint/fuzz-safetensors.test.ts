// Property-based fuzzing of the safetensors reader (issue #11): a valid file
// written by writeSafetensors, with a mutated header (length field, dtypes,
// shapes, data offsets, extra tensors, metadata) and mutated bytes. Opening and
// reading every tensor must end in bounded time and memory in data or a typed
// StudioError. See fuzz-harness.ts for the bounds and run count.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors } from '../../../../main/model/checkpoint/safetensors';
import {
  applyEdits,
  boundedCase,
  FUZZ_RUNS,
  FUZZ_SEED,
  fuzzFolder,
  NASTY_NUMBERS,
  type ByteEdit,
} from '../../../support/fuzz-harness';

const { dir, cleanup } = fuzzFolder('g2-fuzz-st-');
afterAll(cleanup);

let header: Record<string, unknown>;
let data: Buffer;

beforeAll(async () => {
  const path = join(dir, 'seed.safetensors');
  await writeSafetensors(
    path,
    [
      { name: 'w', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      { name: 'b', dtype: 'BF16', shape: [4], data: new Uint16Array([0x3f80, 0x4000, 0, 0x7fc0]) },
      { name: 'h', dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xfc00]) },
      { name: 'ids', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, -1n]) },
      { name: 'mask', dtype: 'U8', shape: [3], data: new Uint8Array([0, 1, 255]) },
    ],
    { metadata: { format: 'pt' } },
  );
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  header = JSON.parse(bytes.toString('utf8', 8, 8 + length)) as Record<string, unknown>;
  data = bytes.subarray(8 + length);
});

const nasty = fc.oneof(fc.constantFrom(...NASTY_NUMBERS), fc.integer({ min: -4, max: 256 }));
const FIELD_VALUES = fc.oneof(
  fc.record({ field: fc.constant('dtype'), value: fc.constantFrom('F32', 'BF16', 'F16', 'I64', 'I32', 'U8', 'BOOL', 'F64', 'Q4', 7, null) }),
  fc.record({ field: fc.constant('shape'), value: fc.oneof(fc.array(nasty, { maxLength: 4 }), fc.constantFrom('6', null, [[2]], [2.5])) }),
  fc.record({ field: fc.constant('data_offsets'), value: fc.oneof(fc.tuple(nasty, nasty), fc.constantFrom([0], [0, 1, 2], null, 'x')) }),
); // prettier-ignore
const headerEdit = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), tensor: fc.constantFrom('w', 'b', 'h', 'ids', 'mask', 'new'), edit: FIELD_VALUES }),
  fc.record({ kind: fc.constant('drop' as const), tensor: fc.constantFrom('w', 'b', 'h', 'ids', 'mask') }),
  fc.record({ kind: fc.constant('metadata' as const), value: fc.constantFrom(null, 5, [], { a: 1 }, { a: 'x'.repeat(1000) }) }),
); // prettier-ignore
type HeaderEdit =
  | { kind: 'field'; tensor: string; edit: { field: string; value: unknown } }
  | { kind: 'drop'; tensor: string }
  | { kind: 'metadata'; value: unknown };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(8),
    value: fc.constantFrom(0, 0xff, 0x7f, 0x01, 0x10),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { maxLength: 8 }),
  }),
);

function build(edits: HeaderEdit[], lengthField: number | null): Buffer {
  const json = structuredClone(header);
  for (const edit of edits) {
    if (edit.kind === 'drop') delete json[edit.tensor];
    else if (edit.kind === 'metadata') json.__metadata__ = edit.value;
    else {
      const entry = (json[edit.tensor] ?? { dtype: 'U8', shape: [1], data_offsets: [0, 1] }) as Record<
        string,
        unknown
      >;
      entry[edit.edit.field] = edit.edit.value;
      json[edit.tensor] = entry;
    }
  }
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(lengthField ?? text.length), 0);
  return Buffer.concat([length, text, data]);
}

describe('fuzzing the safetensors reader', () => {
  it(`ends every mutated file in data or a typed error, in bounded time and memory (${FUZZ_RUNS} runs)`, async () => {
    let index = 0;
    let opened = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(headerEdit, { maxLength: 3 }),
        fc.option(fc.constantFrom(0, 1, 2, 7, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 1e15), { freq: 6 }),
        fc.array(byteEdit, { maxLength: 2 }),
        async (headerEdits, lengthField, byteEdits) => {
          const path = join(dir, `case-${index++}.safetensors`);
          await boundedCase(path, applyEdits(build(headerEdits, lengthField), byteEdits), async (sample) => {
            const file = await SafetensorsFile.open(path);
            try {
              opened++;
              for (const info of file.tensors.values()) {
                const values = await file.readTyped(info.name);
                sample();
                expect(values.byteLength).toBeLessThanOrEqual(info.byteLength * 2);
              }
            } finally {
              await file.close();
            }
          });
        },
      ),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );
    if (FUZZ_RUNS >= 50) expect(opened).toBeGreaterThan(0);
  });
});
