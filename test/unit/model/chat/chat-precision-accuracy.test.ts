// The chat rows of the accuracy table (BENCHMARKS.md): a quantised model's
// decode logits, teacher-forced on the float32 run's inputs, against float32's.
// Real ORT sessions on the golden tiny checkpoint converted twice.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAccuracy } from '../../../../main/bench/chat-accuracy';
import { CHAT_PROBE_IMAGES, ensureTestTokenizer, probeChat } from '../../../../main/bench/chat-probe';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { SHARED_DIR } from '../../../support/shared-dir';

const work = fs.mkdtempSync(join(os.tmpdir(), 'chat-accuracy-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('chat accuracy of a precision against fp32', () => {
  beforeAll(async () => {
    for (const precision of ['fp32', 'int4'] as const) {
      const dir = join(work, precision);
      await convertCheckpoint(join(SHARED_DIR, 'golden/g2vlm-tiny-a/checkpoint'), dir, { precision });
      ensureTestTokenizer(dir);
    }
  }, 120_000);

  it('agrees fully with itself and measures how far int4 moves the logits', async () => {
    const probe = (precision: string, forcedInputs?: number[]) =>
      probeChat({
        modelDir: join(work, precision),
        images: [CHAT_PROBE_IMAGES[0]],
        visionImageSize: 240,
        steps: 8,
        ...(forcedInputs ? { forcedInputs } : {}),
      });
    const fp32 = await probe('fp32');
    expect(fp32.stepChoices).toHaveLength(8);
    expect(fp32.logits.length).toBe(8 * fp32.vocab);
    expect(fp32.estimatePeakBytes).toBeGreaterThan(0);
    const again = await probe('fp32', fp32.stepInputs);
    const self = chatAccuracy(again.logits, fp32.logits, fp32.vocab);
    expect(self.top1Agreement).toBe(1);
    expect(self.maxLogitDiff).toBeLessThan(1e-4);

    const int4 = await probe('int4', fp32.stepInputs);
    expect(int4.stepInputs).toEqual(fp32.stepInputs); // teacher-forced: the same inputs
    const a = chatAccuracy(int4.logits, fp32.logits, fp32.vocab);
    expect(a.steps).toBe(8);
    expect(a.maxLogitDiff).toBeGreaterThan(1e-4); // 4-bit weights do move the logits
    expect(a.maxLogitDiff).toBeLessThan(a.referenceLogitRange);
    expect(() => chatAccuracy(int4.logits.subarray(1), fp32.logits, fp32.vocab)).toThrow(/shapes differ/);
  }, 180_000);
});
