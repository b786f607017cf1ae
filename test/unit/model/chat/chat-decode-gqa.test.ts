// The chat's text-block graph (question + decode over caller-owned KV buffers)
// against the general MoT LLM graph on a grouped-query model (2 query heads per
// KV head, like the real 12:2 model), with random weights: the same logits for
// the question's last token and for every decode step, the same greedy tokens.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatModel } from '../../../../main/model/chat/chat-model';
import { answerQuestion, prefillPrefix } from '../../../../main/model/chat/chat-session';
import { decodeRgbImage } from '../../../../main/model/preprocess/qwen-image';
import { convertedGqaTinyModel } from '../../../support/gqa-tiny-model';
import { SHARED_DIR } from '../../../support/shared-dir';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('chat text-block graph with grouped-query attention', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'g2-chat-gqa-'));
  let model: ChatModel;

  beforeAll(async () => {
    const modelDir = await convertedGqaTinyModel(scratch, 3);
    model = await ChatModel.load(modelDir, 'cpu', { requireTokenizer: false });
  });
  afterAll(async () => {
    await model?.release();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('gives the general LLM graph logits for the question and every decode step', async () => {
    expect(model.decoder).toBeDefined();
    const image = await decodeRgbImage(
      readFileSync(`${SHARED_DIR}/golden/g2vlm-tiny-a/inputs/images/25_0.jpg`),
    );
    const prefix = await prefillPrefix(model, {
      systemIds: [1001, 948, 198, 610, 525, 264, 950, 847, 13, 1002, 198, 1001, 872, 198],
      images: [image, image],
      visionImageSize: 240,
    });
    const questionIds = [198, 679, 279, 965, 320, 151, 459, 8, 1002, 198, 1001, 91];
    const options = { maxNewTokens: 6, keepLogits: true, ignoreEos: true };
    const blockGraph = await answerQuestion(model, prefix, questionIds, options);
    // The decode graph carries its own LM head: the LLM's stays unopened until something asks for it.
    expect(model.llm.lmHeadOpened).toBe(false);
    const general = await answerQuestion(model, prefix, questionIds, { ...options, useDecodeGraph: false });
    expect(model.llm.lmHeadOpened).toBe(true);
    expect(maxAbsDiff(blockGraph.prefillLastLogits, general.prefillLastLogits)).toBeLessThan(1e-4);
    expect(blockGraph.stepChoices).toEqual(general.stepChoices);
    blockGraph.stepLogits.forEach((row, k) =>
      expect(maxAbsDiff(row, general.stepLogits[k])).toBeLessThan(1e-4),
    );
  });
});
