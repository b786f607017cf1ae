// Golden parity of the chat path (called by main/model/golden/verify-golden.ts
// for manifests with a `chat` section). Runs the manifest's chat images through
// the whole pipeline on the converted model — image decoding, both resizers,
// DINO geometry block, vision tower, question, KV-cache decode — and returns
// one report entry per chat.* tensor it reproduces. The golden ids are fed
// (the set states them; no tokenizer needed). chat.system_ids / chat.prompt_ids
// are checked from text with the model's tokenizer when it has one, else from
// the manifest's real Qwen2 ids through its stated token_id_mapping. Decode logits are compared teacher-forced (the golden
// decode_input_ids at every step); the greedy run must give decode_argmax_ids.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { GoldenManifest, GoldenReportEntry, VerifyChatOptions } from '../golden/golden-types';
import { GoldenTensorReader } from '../golden/golden-tensors';
import { compareTensor } from '../golden/compare-tensor';
import { goldenTokenIdMap } from '../golden/golden-token-ids';
import { decodeRgbImage, qwenImageInput, type RgbImage } from '../preprocess/qwen-image';
import { CHAT_QUESTION_SUFFIX, CHAT_SYSTEM_PROMPT } from './chat-layout';
import { ChatModel } from './chat-model';
import { answerQuestion, prefillPrefix } from './chat-session';
import { dinoInput } from './dino-input';
import type { TokenIdMap } from '../tokenizer/token-id-map';

interface ChatSection {
  images: string[];
  system_real_qwen2_ids?: number[];
  prompt_real_qwen2_ids?: number[];
  vit_image_size?: number;
  system_prompt?: string;
  prompt_full?: string;
  question?: string;
  max_length?: number;
}

/**
 * The chat ids as the runtime would derive them: from text with the model's
 * tokenizer when it has one, else the manifest's real Qwen2 ids through the
 * golden set's stated mapping (identity for a real vocabulary).
 */
function derivedIds(
  model: ChatModel,
  chat: ChatSection,
  goldenMap: TokenIdMap | undefined,
): { system: number[]; prompt: number[] } {
  if (model.tokenizer) {
    return {
      system: model.tokenizer.encode(chat.system_prompt ?? CHAT_SYSTEM_PROMPT),
      prompt: model.tokenizer.encode(chat.prompt_full ?? `${chat.question ?? ''}${CHAT_QUESTION_SUFFIX}`),
    };
  }
  const map = (ids: number[] | undefined): number[] => (ids ?? []).map((id) => goldenMap?.toModel(id) ?? id);
  return { system: map(chat.system_real_qwen2_ids), prompt: map(chat.prompt_real_qwen2_ids) };
}

function hwcToChw(hwc: Uint8Array, height: number, width: number): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = hwc[i * 3 + c];
  return out;
}

function concatArrays(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(Array.from(p), offset);
    offset += p.length;
  }
  return out;
}

/** 3×L position blocks side by side (rows stay t, h, w). */
function concatPositionRows(blocks: Int32Array[]): Float64Array {
  const lengths = blocks.map((b) => b.length / 3);
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(3 * total);
  let offset = 0;
  blocks.forEach((b, k) => {
    for (let row = 0; row < 3; row++)
      out.set(b.subarray(row * lengths[k], (row + 1) * lengths[k]), row * total + offset);
    offset += lengths[k];
  });
  return out;
}

export async function verifyChatGolden(
  goldenDir: string,
  manifest: GoldenManifest,
  modelDir: string,
  opts: VerifyChatOptions,
): Promise<GoldenReportEntry[]> {
  const chat = manifest.chat as unknown as ChatSection;
  const reader = new GoldenTensorReader(goldenDir);
  const entries: GoldenReportEntry[] = [];
  const model = await ChatModel.load(modelDir, opts.executionProvider ?? 'cpu', { requireTokenizer: false });
  opts.onProvider?.(model.executionProvider, model.providerNotes);
  try {
    const check = async (name: string, actual: ArrayLike<number>, shape: number[]): Promise<void> => {
      const spec = manifest.tensors[name];
      if (!spec) return;
      const golden = await reader.read(spec.file, name);
      entries.push(compareTensor(name, spec, actual, shape, golden.data, opts.dtype));
    };
    const goldenIds = async (name: string): Promise<number[]> => {
      const spec = manifest.tensors[name];
      return Array.from((await reader.read(spec.file, name)).data as BigInt64Array, Number);
    };

    // Token ids: the golden ids are fed; how they are derived is checked separately.
    const systemIds = await goldenIds('chat.system_ids');
    const promptIds = await goldenIds('chat.prompt_ids');
    const derived = derivedIds(model, chat, goldenTokenIdMap(manifest));
    await check('chat.system_ids', derived.system, [derived.system.length]);
    await check('chat.prompt_ids', derived.prompt, [derived.prompt.length]);

    // Images: decode + both resizers, compared byte for byte.
    const images: RgbImage[] = [];
    for (const path of chat.images)
      images.push(await decodeRgbImage(await fs.readFile(join(goldenDir, path)), path));
    const visionImageSize = chat.vit_image_size ?? 768;
    const geometry = dinoInput(images);
    await check(
      'chat.dino_image_resized_u8',
      concatArrays(geometry.resized.map((rgb) => hwcToChw(rgb, geometry.height, geometry.width))),
      [images.length, 3, geometry.height, geometry.width],
    );
    for (const [k, image] of images.entries()) {
      const input = qwenImageInput(image, visionImageSize);
      const t = input.transformResized;
      const p = input.processorResized;
      await check(`chat.vit${k}.image_resized_u8`, hwcToChw(t.rgb, t.height, t.width), [
        3,
        t.height,
        t.width,
      ]);
      await check(`chat.vit${k}.image_processor_resized_u8`, hwcToChw(p.rgb, p.height, p.width), [
        3,
        p.height,
        p.width,
      ]);
      await check(`chat.vit${k}.pixel_values`, input.pixelValues, [input.pixelValues.length / 1176, 1176]);
      await check(`chat.vit${k}.grid_thw`, input.gridThw, [1, 3]);
    }

    // Prefix: system text, geometry block, ViT blocks.
    opts.signal?.throwIfAborted();
    const prefix = await prefillPrefix(
      model,
      { systemIds, images, visionImageSize },
      { signal: opts.signal },
    );
    const E = model.manifest.configs.vit.embedDim;
    const D = model.hiddenSize;
    for (const [k, out] of prefix.vision.entries()) {
      await check(`chat.vit${k}.blocks_out`, out.blocksOut, [out.blocksOut.length / E, E]);
      await check(`chat.vit${k}.vit_out`, out.vitOut, [out.vitOut.length / D, D]);
    }
    await check('chat.geo_position_ids', prefix.geometryPositions, [3, prefix.geometryPositions.length / 3]);

    // Teacher-forced decode (logits at every step) and the greedy run (argmax ids).
    const forced = manifest.tensors['chat.decode_input_ids']
      ? await goldenIds('chat.decode_input_ids')
      : undefined;
    const steps = chat.max_length ?? forced?.length ?? 8;
    const teacher = await answerQuestion(model, prefix, promptIds, {
      maxNewTokens: steps,
      forcedInputs: forced,
      keepLogits: true,
      signal: opts.signal,
    });
    const full = concatPositionRows([prefix.positions, teacher.questionPositions]);
    await check('chat.position_ids_full', full, [3, full.length / 3]);
    // The ViT block positions of image k sit right after the system text, the geometry block and earlier ViT blocks.
    const vitBlocks = splitVisionPositions(
      prefix.positions,
      systemIds.length + prefix.geometryPositions.length / 3,
      prefix.vision.map((v) => v.vitOut.length / D + 2),
    );
    for (const [k, block] of vitBlocks.entries())
      await check(`chat.vit${k}.position_ids`, block, [3, block.length / 3]);
    await check('chat.prefill_last_token_logits', teacher.prefillLastLogits, [
      teacher.prefillLastLogits.length,
    ]);
    const vocab = model.llm.vocabSize;
    await check('chat.decode_logits', concatArrays(teacher.stepLogits), [teacher.stepLogits.length, vocab]);
    await check('chat.decode_position_ids', teacher.stepPositions, [teacher.stepPositions.length]);

    const greedy = await answerQuestion(model, prefix, promptIds, {
      maxNewTokens: steps,
      signal: opts.signal,
    });
    await check('chat.decode_input_ids', greedy.stepInputs, [greedy.stepInputs.length]);
    await check('chat.decode_argmax_ids', greedy.stepChoices, [greedy.stepChoices.length]);
    return entries;
  } finally {
    await reader.close();
    await model.release();
  }
}

function splitVisionPositions(all: Int32Array, firstRow: number, blockRows: number[]): Float64Array[] {
  const total = all.length / 3;
  const out: Float64Array[] = [];
  let start = firstRow;
  for (const rows of blockRows) {
    const block = new Float64Array(3 * rows);
    for (let row = 0; row < 3; row++)
      block.set(all.subarray(row * total + start, row * total + start + rows), row * rows);
    out.push(block);
    start += rows;
  }
  return out;
}
