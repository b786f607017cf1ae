// Shared bounds for the fuzz tests (fuzz-*.test.ts): every generated file must
// end, within a time and memory bound, in a result or a typed StudioError.
//
// Runs per reader: G2STUDIO_FUZZ_RUNS (default 300, a few seconds per reader in
// CI); e.g. G2STUDIO_FUZZ_RUNS=5000 for a long run. G2STUDIO_FUZZ_SEED replays
// a failure fast-check reported.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { StudioError } from '../../main/common/errors';

export const FUZZ_RUNS = Number(process.env.G2STUDIO_FUZZ_RUNS ?? 300);
export const FUZZ_SEED = process.env.G2STUDIO_FUZZ_SEED ? Number(process.env.G2STUDIO_FUZZ_SEED) : undefined;
/** Longest one case may take (a loaded 2-core CI machine; real answers take milliseconds). */
export const CASE_TIME_MS = 3000;
/** Most new memory (array buffers + JS heap) one case may hold; inputs are a few KB. */
export const CASE_MEMORY_BYTES = 96 << 20;

export function fuzzFolder(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const memoryNow = (): number => {
  const usage = process.memoryUsage();
  return usage.arrayBuffers + usage.heapUsed;
};

/**
 * Writes `bytes` to `path`, runs `read`, and checks the case: it ended in
 * time, its memory stayed bounded (sampled every few ms and at every `sample()`
 * the reader's progress calls), and it gave a result or a typed StudioError.
 */
export async function boundedCase(
  path: string,
  bytes: Uint8Array,
  read: (sample: () => void) => Promise<unknown>,
): Promise<void> {
  writeFileSync(path, bytes);
  const before = memoryNow();
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, memoryNow() - before);
  };
  const timer = setInterval(sample, 2);
  const started = performance.now();
  let outcome: unknown;
  try {
    await read(sample);
    outcome = 'result';
  } catch (error) {
    outcome = error;
  } finally {
    clearInterval(timer);
    sample();
  }
  const ms = performance.now() - started;
  expect(ms, `case took ${ms.toFixed(0)} ms`).toBeLessThan(CASE_TIME_MS);
  expect(peak, `case held ${(peak / 2 ** 20).toFixed(0)} MB`).toBeLessThan(CASE_MEMORY_BYTES);
  if (outcome !== 'result') {
    // Anything but a StudioError is a reader bug (a TypeError, a RangeError from an allocation...).
    if (!(outcome instanceof StudioError)) throw outcome;
    expect(outcome.fix.length).toBeGreaterThan(5);
  }
}

/** Byte-level mutations on top of structured ones: flips, cuts, insertions. */
export type ByteEdit =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] };

export function applyEdits(source: Uint8Array, edits: ByteEdit[]): Uint8Array {
  let bytes = Buffer.from(source);
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + 1);
    if (edit.kind === 'flip' && at < bytes.length) bytes[at] = edit.value;
    else if (edit.kind === 'cut') bytes = bytes.subarray(0, at);
    else if (edit.kind === 'insert')
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(edit.bytes), bytes.subarray(at)]);
  }
  return bytes;
}

/** Numbers that break size arithmetic: zero, negatives, powers of two around 32/53 bits, fractions, NaN text. */
export const NASTY_NUMBERS = [
  0,
  1,
  -1,
  2,
  3,
  7,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  1e9,
  3e8,
  1e21,
  0.5,
  -0.5,
  1e-9,
];
