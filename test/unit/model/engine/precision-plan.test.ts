// The costs of each precision are known before converting: the predicted size
// on disk must match what the converter writes, and `auto` must pick the most
// accurate precision whose 8-frame reconstruction fits the memory given.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readG2vlmConfig } from '../../../../main/model/checkpoint/config';
import { generateRandomCheckpoint } from '../../../../main/model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { planPrecision, precisionAdvice } from '../../../../main/model/engine/precision-plan';

const work = fs.mkdtempSync(join(os.tmpdir(), 'precision-plan-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const GiB = 2 ** 30;

describe('precision plan', () => {
  it('predicts the converted size of every precision within 1% (medium checkpoint)', async () => {
    const checkpoint = join(work, 'medium');
    await generateRandomCheckpoint(checkpoint, 'medium', { dtype: 'BF16', seed: 3 });
    const advice = planPrecision(await readG2vlmConfig(checkpoint), 'cpu', 64 * GiB, checkpoint);
    // int4 has both kinds of blocks (4-bit und expert, 8-bit elsewhere); fp16 the float path.
    for (const precision of ['fp16', 'int4'] as const) {
      const out = join(work, `medium-${precision}`);
      await convertCheckpoint(checkpoint, out, { precision });
      const actual = fs.statSync(join(out, 'weights.bin')).size;
      const predicted = advice.options.find((o) => o.precision === precision)!.diskBytes;
      expect(Math.abs(predicted / actual - 1), precision).toBeLessThan(0.01);
      fs.rmSync(out, { recursive: true });
    }
  }, 180_000);

  it('auto: fp32 where it fits on a CPU, int8 on a 16 GB laptop, int4 below that; fp16 first on a GPU', async () => {
    const at = async (device: 'cpu' | 'gpu', bytes: number) =>
      (await precisionAdvice(undefined, device, bytes)).auto;
    expect((await at('cpu', 64 * GiB)).precision).toBe('fp32');
    const laptop = await at('cpu', 11 * GiB); // what a 16 GB laptop has free
    expect(laptop.precision).toBe('int8');
    expect(laptop.reason).toMatch(/^int8: .*fp32 would need [\d.]+ GiB; 11\.0 GiB free memory here\.$/);
    expect((await at('cpu', 9.6 * GiB)).precision).toBe('int4');
    expect((await at('gpu', 24 * GiB)).precision).toBe('fp16');
    expect((await at('gpu', 8 * GiB)).precision).not.toBe('fp16');
    const tooSmall = await at('cpu', 2 * GiB);
    expect(tooSmall.precision).toBe('int4');
    expect(tooSmall.reason).toMatch(/select fewer frames/);
  });

  it('on a GPU that computes fp16 in fp16, fp16 weights count once: a 16 GB card gets fp16, not int8', async () => {
    const on = (float16Compute: boolean) => precisionAdvice(undefined, 'gpu', 16 * GiB, { float16Compute });
    const widened = await on(false);
    const native = await on(true);
    const peak = (advice: typeof native, precision: string) =>
      advice.options.find((o) => o.precision === precision)!.reconPeakBytes;
    // Without shader-f16 the fp16 weights are widened on the device: fp32's memory.
    expect(peak(widened, 'fp16')).toBe(peak(widened, 'fp32'));
    expect(widened.auto.precision).toBe('int8');
    // With it they stay fp16: the difference is the reconstruction's fp16 weights (6.3 GiB of the 8.5 on disk;
    // the LM head and the vision tower are not loaded for it).
    const saved = peak(native, 'fp32') - peak(native, 'fp16');
    expect(saved).toBeGreaterThan(6 * GiB);
    expect(saved).toBeLessThan(native.options.find((o) => o.precision === 'fp16')!.diskBytes);
    expect(native.auto.precision).toBe('fp16');
    expect(native.auto.reason).toMatch(/^fp16: .* 16\.0 GiB GPU memory here\.$/);
    // The CPU never computes in fp16: the flag means nothing there.
    const cpu = await precisionAdvice(undefined, 'cpu', 16 * GiB, { float16Compute: true });
    expect(peak(cpu, 'fp16')).toBe(peak(cpu, 'fp32'));
  });

  it('the official model: sizes of 4.54 B parameters, the 8-frame memory ordered by precision', async () => {
    const { options } = await precisionAdvice(undefined, 'cpu', 64 * GiB);
    const by = new Map(options.map((o) => [o.precision, o]));
    expect(by.get('fp32')!.diskBytes / 4).toBeGreaterThan(4.5e9);
    expect(by.get('fp16')!.diskBytes).toBeCloseTo(by.get('fp32')!.diskBytes / 2, -6);
    expect(by.get('int8')!.reconPeakBytes).toBeLessThan(by.get('fp16')!.reconPeakBytes);
    expect(by.get('int4')!.reconPeakBytes).toBeLessThan(by.get('int8')!.reconPeakBytes);
  });
});
