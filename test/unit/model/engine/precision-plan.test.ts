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

  it('the official model: sizes of 4.54 B parameters, the 8-frame memory ordered by precision', async () => {
    const { options } = await precisionAdvice(undefined, 'cpu', 64 * GiB);
    const by = new Map(options.map((o) => [o.precision, o]));
    expect(by.get('fp32')!.diskBytes / 4).toBeGreaterThan(4.5e9);
    expect(by.get('fp16')!.diskBytes).toBeCloseTo(by.get('fp32')!.diskBytes / 2, -6);
    expect(by.get('int8')!.reconPeakBytes).toBeLessThan(by.get('fp16')!.reconPeakBytes);
    expect(by.get('int4')!.reconPeakBytes).toBeLessThan(by.get('int8')!.reconPeakBytes);
  });
});
