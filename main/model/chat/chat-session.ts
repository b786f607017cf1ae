// The chat forward passes on a loaded ChatModel (model doc §3.2): the prefix
// (system text, geometry block, ViT blocks) filled into a KV cache once, then
// per question the question block and a token-by-token decode that only ever
// feeds the newest token (no prefix recomputation) and runs the LM head on one
// row per step. A prefix can be reused by any number of questions: the cache is
// copied by reference (the runner never mutates a cached tensor, it replaces
// the per-layer entries), so reuse costs nothing.
import { checkFloat16Output } from '../runtime/float16-compute-form';
import { StudioError, cancelledError } from '../../common/errors';
import type { EngineProgress, StageMeasurement, StageRate } from '../engine/engine-types';
import { StageClock, type PlannedStage } from '../runtime/stage-clock';
import {
  dinoGflop,
  expectStage,
  llmBlockGflop,
  visionTowerGflop,
  withMeasuredRate,
} from '../runtime/stage-work';
import { PositionCounter, concatPositions } from '../g2vlm/mrope';
import type { KvCache } from '../runtime/llm-runner';
import type { RgbImage } from '../preprocess/qwen-image';
import { qwenImageInput, type QwenProcessorValues } from '../preprocess/qwen-image';
import { StreamingTextDecoder, type TextDecoderLike } from '../tokenizer/streaming-decoder';
import { buildChatLayout, imageBlockTokenIds, type ImageBlockLayout } from './chat-layout';
import type { ChatModel, VisionTowerOutput } from './chat-model';
import type { DecodeCache } from './chat-decoder';
import { dinoInput } from './dino-input';
import { TokenSampler } from './sampling';

export interface ChatControl {
  signal?: AbortSignal;
  /** Progress within this call, 0..1, with a stage name. */
  onProgress?: (progress: number, stage: string) => void;
}

export interface PrefixControl extends ChatControl {
  /**
   * The prefix's progress as the engine sends it (instead of onProgress): its
   * timed stages (DINO, the geometry block, each image's vision tower and
   * block) carry their expected duration, from `stageRates`.
   */
  onStageProgress?: (p: EngineProgress) => void;
  /** Measured stage speeds of this model (request.stageRates). */
  stageRates?: readonly StageRate[];
}

export interface ChatPrefix {
  cache: KvCache;
  /** Position counter after the prefix (the question starts here). */
  nextPosition: number;
  rows: number;
  /** Vision tower outputs per image (kept for parity checks). */
  vision: VisionTowerOutput[];
  /** What the long stages cost (work and time), for the studio's stage rates (absent when loaded from disk). */
  stageMeasurements?: StageMeasurement[];
  /** Geometry block positions, 3×L (for parity checks). */
  geometryPositions: Int32Array;
  /** All prefix positions, 3×L. */
  positions: Int32Array;
  /**
   * The prefix in the text-block graph's buffers, made by the first question.
   * Every question appends after the prefix and is truncated away when it ends
   * (no per-question copy); questions on one prefix therefore take turns.
   */
  decodeCache?: DecodeCache;
  decodeTurn?: Promise<void>;
  timingsMs: Record<string, number>;
}

export interface PrefixRequest {
  systemIds: number[];
  images: RgbImage[];
  /** Side of the Qwen2-VL transform (768 in inference_chat.py). */
  visionImageSize: number;
  /** The processor's pixel budget and normalisation (default: Qwen2-VL's). */
  processor?: QwenProcessorValues;
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelledError('The question');
}

/** A shallow copy that later appends cannot disturb (appends replace the per-layer tensors). */
export function forkCache(cache: KvCache): KvCache {
  return { keys: [...cache.keys], values: [...cache.values], length: cache.length };
}

/** Embeddings of an image block: special tokens from the table, image rows from `imageRows`. */
async function imageBlockEmbeddings(
  model: ChatModel,
  block: ImageBlockLayout,
  imageRows: Float32Array[],
): Promise<Float32Array> {
  const D = model.hiddenSize;
  const ids = imageBlockTokenIds(block, model.special.startOfImage, model.special.endOfImage);
  const [startEmbed, endEmbed] = [
    await model.llm.embedTokens([model.special.startOfImage]),
    await model.llm.embedTokens([model.special.endOfImage]),
  ];
  const out = new Float32Array(block.rows * D);
  ids.forEach((id, row) => {
    if (id === model.special.startOfImage) out.set(startEmbed, row * D);
    else if (id === model.special.endOfImage) out.set(endEmbed, row * D);
  });
  block.images.forEach((image, k) => out.set(imageRows[k].subarray(0, image.tokens * D), image.firstRow * D));
  return out;
}

/** System text, geometry block of all images, one ViT block per image. */
export async function prefillPrefix(
  model: ChatModel,
  request: PrefixRequest,
  control: PrefixControl = {},
): Promise<ChatPrefix> {
  const { signal } = control;
  const report = control.onProgress ?? (() => {});
  const clock = new StageClock(control.onStageProgress ?? ((p) => report(p.progress, p.stage)));
  const timingsMs: Record<string, number> = {};
  const D = model.hiddenSize;
  const vitConfig = model.manifest.configs.vit;
  let t0 = performance.now();

  clock.begin('preprocess', 0, 0.05);
  const geometryInput = dinoInput(request.images, signal);
  const visionInputs = request.images.map((image) =>
    qwenImageInput(image, request.visionImageSize, request.processor),
  );
  const layout = buildChatLayout({
    systemIds: request.systemIds,
    geometryGrids: request.images.map(() => geometryInput.grid),
    visionGrids: visionInputs.map((v) => [v.gridThw[1], v.gridThw[2]]),
    mergeSize: vitConfig.spatialMergeSize,
    questionIds: [],
    startOfImage: model.special.startOfImage,
    endOfImage: model.special.endOfImage,
  });
  timingsMs.preprocess = performance.now() - t0;
  throwIfCancelled(signal);

  // The long stages' work and expected time (stage-work.ts); DINO and the
  // geometry block are the graphs a reconstruction runs, so their rates are shared.
  const patches = geometryInput.grid[0] * geometryInput.grid[1];
  const geometryPast = layout.system.positions.length / 3;
  let visionPast = geometryPast + layout.geometry.positions.length / 3;
  const visionGflop = visionInputs.map((v, k) => {
    const rows = layout.vision[k].positions.length / 3;
    const gflop =
      visionTowerGflop(model.manifest, v.gridThw[1] * v.gridThw[2]) +
      llmBlockGflop(model.manifest, rows, visionPast);
    visionPast += rows;
    return gflop;
  });
  const work = {
    dino: dinoGflop(model.manifest, request.images.length, patches),
    'geometry-prefill': llmBlockGflop(model.manifest, layout.geometry.positions.length / 3, geometryPast),
    vision: visionGflop.reduce((a, b) => a + b, 0),
  };
  let rates: StageRate[] = (control.stageRates ?? []).slice();
  const provider = model.executionProvider;
  const expect = (stage: keyof typeof work, share = 1) =>
    expectStage(rates, provider, stage, work[stage] * share);
  const measurements: StageMeasurement[] = [];
  const measured = (stage: keyof typeof work, ms: number): void => {
    measurements.push({ stage, gflop: work[stage], ms });
    rates = withMeasuredRate(rates, provider, stage, work[stage], ms);
  };
  const later = (...stages: Array<keyof typeof work>): PlannedStage[] =>
    stages.map((stage) => ({ stage, expectation: expect(stage) }));

  const cache = model.llm.newCache();
  t0 = performance.now();
  clock.begin('prefill', 0.05, 0.1);
  if (request.systemIds.length > 0) {
    await model.llm.run(
      cache,
      {
        embeds: await model.llm.embedTokens(request.systemIds),
        positions: layout.system.positions,
        causal: true,
      },
      { signal },
    );
  }
  timingsMs.systemPrefill = performance.now() - t0;
  throwIfCancelled(signal);

  // Geometry: DINO of all images → one non-causal block; DINO rows use the geo expert.
  t0 = performance.now();
  clock.plan(later('geometry-prefill', 'vision'));
  clock.begin('dino', 0.1, 0.3, expect('dino'));
  const dinoRows = await model.encodeGeometry(geometryInput);
  measured('dino', clock.end());
  const perImage = geometryInput.grid[0] * geometryInput.grid[1];
  const geometryRows = request.images.map((_, k) =>
    dinoRows.subarray(k * perImage * D, (k + 1) * perImage * D),
  );
  timingsMs.dino = performance.now() - t0;
  throwIfCancelled(signal);
  t0 = performance.now();
  clock.plan(later('vision'));
  clock.begin('geometry-prefill', 0.3, 0.5, expect('geometry-prefill'));
  const geoRows: number[] = [];
  for (const image of layout.geometry.images)
    for (let r = 0; r < image.tokens; r++) geoRows.push(image.firstRow + r);
  await model.llm.run(
    cache,
    {
      embeds: await imageBlockEmbeddings(model, layout.geometry, geometryRows),
      positions: layout.geometry.positions,
      geoRows: Int32Array.from(geoRows),
      causal: false,
    },
    { signal },
  );
  timingsMs.geometryPrefill = performance.now() - t0;
  measured('geometry-prefill', clock.end());

  // Understanding: per image the vision tower, then its non-causal und block.
  const vision: VisionTowerOutput[] = [];
  timingsMs.visionTower = 0;
  timingsMs.visionPrefill = 0;
  let visionMs = 0;
  for (const [k, input] of visionInputs.entries()) {
    throwIfCancelled(signal);
    // One image at a time: a real step each, timed by its share of the work.
    const shareOf = (j: number): number =>
      work.vision > 0 ? visionGflop[j] / work.vision : 1 / visionInputs.length;
    const share = shareOf(k);
    // The images after this one, for the time left.
    clock.plan(
      visionGflop
        .map((_, j) => ({ stage: `vision ${j}`, expectation: expect('vision', shareOf(j)) }))
        .slice(k + 1),
    );
    clock.begin(
      'vision',
      0.5 + (0.45 * k) / visionInputs.length,
      0.5 + (0.45 * (k + 1)) / visionInputs.length,
      expect('vision', share),
    );
    t0 = performance.now();
    const out = await model.encodeVision(input.pixelValues, input.gridThw[1], input.gridThw[2]);
    vision.push(out);
    timingsMs.visionTower += performance.now() - t0;
    t0 = performance.now();
    const block = layout.vision[k];
    await model.llm.run(
      cache,
      {
        embeds: await imageBlockEmbeddings(model, block, [out.vitOut]),
        positions: block.positions,
        causal: false,
      },
      { signal },
    );
    timingsMs.visionPrefill += performance.now() - t0;
    visionMs += clock.end();
  }
  if (visionInputs.length > 0) measured('vision', visionMs);
  clock.begin('prefill', 1, 1);
  return {
    cache,
    nextPosition: layout.decodeStart,
    rows: layout.prefixRows,
    vision,
    geometryPositions: layout.geometry.positions,
    positions: concatPositions([
      layout.system.positions,
      layout.geometry.positions,
      ...layout.vision.map((v) => v.positions),
    ]),
    timingsMs,
    stageMeasurements: measurements,
  };
}

export interface AnswerOptions extends ChatControl {
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Teacher forcing: feed these tokens instead of the chosen ones (parity checks). */
  forcedInputs?: number[];
  /** Keep every decode step's logits (parity checks). */
  keepLogits?: boolean;
  /** Keep decoding past <|im_end|> (benchmarks that need a fixed step count). */
  ignoreEos?: boolean;
  /** Use the one-step decode graph when the model has one (default); false = the general LLM graph. */
  useDecodeGraph?: boolean;
  /** Streams decoded text (multi-byte characters are never split). */
  onToken?: (text: string) => void;
  tokenizer?: TextDecoderLike;
}

export interface AnswerResult {
  /** Generated ids, without the start token and without <|im_end|>. */
  tokenIds: number[];
  /** The id chosen at every decode step (including a final <|im_end|>). */
  stepChoices: number[];
  /** Inputs fed at every decode step (the start token first). */
  stepInputs: number[];
  stepPositions: number[];
  /** logits of the last question token ("assistant"), unused by the official decode. */
  prefillLastLogits: Float32Array;
  stepLogits: Float32Array[];
  questionPositions: Int32Array;
  stoppedAtEos: boolean;
  timingsMs: Record<string, number>;
}

/** Question block after the prefix (which is left as it was), then decode from "\n". */
export async function answerQuestion(
  model: ChatModel,
  prefix: ChatPrefix,
  questionIds: number[],
  options: AnswerOptions,
): Promise<AnswerResult> {
  const { signal } = options;
  const report = options.onProgress ?? (() => {});
  const timingsMs: Record<string, number> = {};
  const cache = forkCache(prefix.cache);
  const counter = new PositionCounter(prefix.nextPosition);
  const D = model.hiddenSize;
  const vocab = model.llm.vocabSize;
  // Models converted before the limit was recorded fall back to Qwen2-VL's 32768.
  const contextLimit = model.manifest.configs.text.maxPositionEmbeddings ?? 32768;
  const lastPosition = prefix.nextPosition + questionIds.length + options.maxNewTokens;
  if (lastPosition > contextLimit) {
    throw new StudioError(
      'invalid-input',
      `The question is too long for the model: with the scene's frames and ${options.maxNewTokens} answer tokens it needs ` +
        `${lastPosition} positions, and the model handles ${contextLimit}.`,
      'Ask a shorter question, allow fewer answer tokens, or ask about fewer frames.',
    );
  }

  let t0 = performance.now();
  report(0, 'prefill');
  const decoder = options.useDecodeGraph === false ? undefined : model.decoder;
  let decodeCache: DecodeCache | undefined;
  let endTurn = (): void => {};
  if (decoder) {
    const previous = prefix.decodeTurn ?? Promise.resolve();
    prefix.decodeTurn = new Promise<void>((resolve) => (endTurn = resolve));
    await previous;
    const needed = prefix.cache.length + questionIds.length + options.maxNewTokens;
    // Room for typical follow-up questions without growing again.
    const slack = 512;
    if (!prefix.decodeCache) {
      prefix.decodeCache = decoder.fromRunnerCache(prefix.cache, needed - prefix.cache.length + slack);
    } else if (prefix.decodeCache.capacity < needed) {
      prefix.decodeCache = decoder.grow(prefix.decodeCache, needed + slack);
    }
    decodeCache = prefix.decodeCache;
  }
  try {
    return await questionAndDecode();
  } finally {
    if (decoder && decodeCache) {
      decoder.truncate(decodeCache, prefix.cache.length);
      decoder.releaseDevice(decodeCache);
    }
    endTurn();
  }

  async function questionAndDecode(): Promise<AnswerResult> {
    const questionPositions = counter.text(questionIds.length);
    let prefillLastLogits: Float32Array = new Float32Array(0);
    if (questionIds.length > 0 && decoder && decodeCache) {
      prefillLastLogits = await decoder.run(decodeCache, questionIds, questionPositions[0]);
    } else if (questionIds.length > 0) {
      const { hidden } = await model.llm.run(
        cache,
        { embeds: await model.llm.embedTokens(questionIds), positions: questionPositions, causal: true },
        { signal },
      );
      // The LM head only where logits are needed: the last row.
      prefillLastLogits = await model.llm.logits(hidden.slice((questionIds.length - 1) * D), 1);
    }
    timingsMs.questionPrefill = performance.now() - t0;

    const sampler = new TokenSampler(options);
    const stream = options.tokenizer ? new StreamingTextDecoder(options.tokenizer) : undefined;
    const result: AnswerResult = {
      tokenIds: [],
      stepChoices: [],
      stepInputs: [],
      stepPositions: [],
      prefillLastLogits,
      stepLogits: [],
      questionPositions,
      stoppedAtEos: false,
      timingsMs,
    };
    t0 = performance.now();
    let input = model.special.decodeStart;
    const step = async (token: number, position: number): Promise<Float32Array> => {
      if (decoder && decodeCache) return decoder.run(decodeCache, [token], position);
      const { hidden } = await model.llm.run(
        cache,
        {
          embeds: await model.llm.embedTokens([token]),
          positions: Int32Array.of(position, position, position),
          causal: true,
        },
        { signal },
      );
      return model.llm.logits(hidden, 1);
    };
    for (let k = 0; k < options.maxNewTokens; k++) {
      throwIfCancelled(signal);
      const position = counter.next;
      result.stepInputs.push(input);
      result.stepPositions.push(position);
      counter.next += 1;
      const logits = await step(input, position);
      // fp16 compute (a GPU with shader-f16): an overflow anywhere upstream shows here, before the token is sent.
      checkFloat16Output(model, logits, 'the answer');
      if (options.keepLogits) result.stepLogits.push(logits.slice(0, vocab));
      const choice = sampler.next(logits.subarray(0, vocab));
      result.stepChoices.push(choice);
      if (k === 0) {
        timingsMs.firstStep = performance.now() - t0;
        timingsMs.firstTokenAfterQuestion = timingsMs.firstStep + timingsMs.questionPrefill;
      }
      if (choice === model.special.eos && !options.ignoreEos) {
        result.stoppedAtEos = true;
        break;
      }
      result.tokenIds.push(choice);
      const piece = stream?.push(choice);
      if (piece) options.onToken?.(piece);
      report((k + 1) / options.maxNewTokens, 'decode');
      input = options.forcedInputs?.[k + 1] ?? choice;
    }
    const rest = stream?.flush();
    if (rest) options.onToken?.(rest);
    timingsMs.decode = performance.now() - t0;
    timingsMs.decodeSteps = result.stepChoices.length;
    return result;
  }
}
