// Spatial Q&A entry point of the engine worker: `runChat(request, …)` answers a
// question about a scene's images with G2VLM.chat_with_recon's dataflow
// (model doc §3.2), streaming the answer token by token. The loaded model and
// the per-scene prefixes stay in memory between questions.
import { Float16OverflowError, markFloat16Overflow } from '../runtime/float16-compute-form';
import { cpuNodesOfModel } from '../runtime/node-placement';
import type { ChatOutput, ChatRequest, EngineProgress } from '../engine/engine-types';
import { StudioError, cancelledError } from '../../common/errors';
import { decodeRgbImage, DEFAULT_VIT_IMAGE_SIZE } from '../preprocess/qwen-image';
import type { ExecutionProviderChoice } from '../runtime/session';
import { CHAT_QUESTION_SUFFIX, CHAT_SYSTEM_PROMPT } from './chat-layout';
import { drawMarkers } from './markers';
import { ChatModel } from './chat-model';
import { answerQuestion, prefillPrefix, type ChatPrefix } from './chat-session';
import { PrefixCache, prefixBytes, prefixKey } from './prefix-cache';
import { PrefixDiskCache } from './prefix-disk-cache';
import { readModelManifest } from '../runtime/model-manifest';

export interface ChatRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  onToken?: (text: string) => void;
}

export interface ChatTuning {
  /** Side of the Qwen2-VL transform; 768 as inference_chat.py (the golden set and bench use 240). */
  visionImageSize?: number;
  /** Keep scene prefixes on disk in this folder too (survives restarts); off when undefined. */
  prefixDiskDir?: string;
}

/** Environment switch for the engine: a folder for on-disk chat prefixes (off when unset). */
export const PREFIX_DIR_ENV = 'G2STUDIO_CHAT_PREFIX_DIR';

export const DEFAULT_MAX_NEW_TOKENS = 128;
const MAX_NEW_TOKENS_LIMIT = 4096;

let loadedModel: { key: string; model: Promise<ChatModel> } | undefined;
const prefixes = new PrefixCache(4);

/** The chat model of `modelDir`, loaded once and kept (a different folder replaces it). */
export async function getChatModel(
  modelDir: string,
  ep: ExecutionProviderChoice = 'cpu',
): Promise<ChatModel> {
  // Keyed by the conversion too: the same folder converted again is a different model.
  const manifest = readModelManifest(modelDir);
  const key = [modelDir, ep, manifest.id, manifest.created].join('\u0000');
  if (loadedModel?.key !== key) {
    const previous = loadedModel;
    loadedModel = { key, model: ChatModel.load(modelDir, ep) };
    prefixes.clear();
    loadedModel.model.catch(() => {
      if (loadedModel?.key === key) loadedModel = undefined;
    });
    if (previous) void previous.model.then((m) => m.release()).catch(() => undefined);
  }
  return loadedModel.model;
}

/** Drops the loaded model and every cached prefix (frees their memory). */
export async function releaseChatModel(): Promise<void> {
  const previous = loadedModel;
  loadedModel = undefined;
  prefixes.clear();
  if (previous) await (await previous.model).release();
}

function validate(request: ChatRequest): number {
  if (!request.frames || request.frames.length === 0) {
    throw new StudioError(
      'invalid-input',
      'A question needs at least one image of the scene.',
      'Select one or more frames.',
    );
  }
  const maxNewTokens = request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS_LIMIT) {
    throw new StudioError(
      'invalid-input',
      `maxNewTokens must be an integer from 1 to ${MAX_NEW_TOKENS_LIMIT} (got ${String(request.maxNewTokens)}).`,
      'Ask for a shorter or longer answer within that range.',
    );
  }
  if (request.temperature !== undefined && !(request.temperature >= 0)) {
    throw new StudioError(
      'invalid-input',
      'The temperature cannot be negative.',
      'Use 0 for the official greedy answer.',
    );
  }
  return maxNewTokens;
}

/** Answers with an already loaded model (tests and the benchmark call this directly). */
export async function runChatOn(
  model: ChatModel,
  request: ChatRequest,
  options: ChatRunOptions = {},
  tuning: ChatTuning = {},
): Promise<ChatOutput> {
  const started = performance.now();
  const maxNewTokens = validate(request);
  const tokenizer = model.tokenizer;
  if (!tokenizer) {
    throw new StudioError(
      'model-corrupt',
      'The converted model has no tokenizer, so it cannot read a question.',
      'Put tokenizer.json (or vocab.json + merges.txt) beside the checkpoint and convert it again.',
    );
  }
  const { signal } = options;
  const progress = (value: number, stage: string): void => options.onProgress?.({ progress: value, stage });
  const visionImageSize = tuning.visionImageSize ?? DEFAULT_VIT_IMAGE_SIZE;
  const timingsMs: Record<string, number> = {};

  // Phase 1-3 (reusable per scene).
  const key = request.prefixCacheKey
    ? prefixKey({
        // The conversion too: a prefix of an older conversion of the folder is not this model's.
        modelDir: [model.modelDir, model.manifest.id, model.manifest.created].join('\u0000'),
        executionProvider: model.executionProvider,
        sceneKey: request.prefixCacheKey,
        visionImageSize,
        frames: request.frames,
      })
    : undefined;
  const t = model.manifest.configs.text;
  const kvShape = { layers: t.numLayers, kvHeads: t.numKvHeads, headDim: t.headDim };
  // Held twice once asked: the runner's cache and the text-block graph's buffers.
  const bytesOf = (p: ChatPrefix): number =>
    (model.decoder ? 2 : 1) * prefixBytes(p, t.numLayers, t.numKvHeads, t.headDim);
  const disk = key && tuning.prefixDiskDir ? new PrefixDiskCache(tuning.prefixDiskDir) : undefined;
  let prefix: ChatPrefix | undefined = key ? prefixes.get(key) : undefined;
  if (!prefix && key && disk) {
    const t0 = performance.now();
    prefix = await disk.load(key, kvShape);
    if (prefix) {
      timingsMs.prefixFromDisk = performance.now() - t0;
      prefixes.set(key, prefix, bytesOf(prefix));
    }
  }
  const prefixReused = prefix !== undefined;
  let computedPrefix = false;
  if (!prefix) {
    computedPrefix = true;
    let t0 = performance.now();
    progress(0, 'preprocess');
    const images = [];
    for (const frame of request.frames) {
      if (signal?.aborted) throw cancelledError('The question');
      const image = await decodeRgbImage(frame.bytes, frame.name);
      // Markers are drawn here, on the one decode of the frame, as the official
      // data pipeline draws them: both the geometry and the vision path see them.
      images.push(
        frame.markers?.length
          ? { ...image, rgb: drawMarkers(image.rgb, image.width, image.height, frame.markers) }
          : image,
      );
    }
    timingsMs.decodeImages = performance.now() - t0;
    t0 = performance.now();
    prefix = await prefillPrefix(
      model,
      {
        systemIds: tokenizer.encode(CHAT_SYSTEM_PROMPT),
        images,
        visionImageSize,
        processor: model.processor,
      },
      {
        signal,
        stageRates: request.stageRates,
        // The prefix is the first 70 % of the bar, its timed stages too.
        onStageProgress: (p) =>
          options.onProgress?.({
            ...p,
            progress: 0.7 * p.progress,
            ...(p.timedStage
              ? { timedStage: { ...p.timedStage, from: 0.7 * p.timedStage.from, to: 0.7 * p.timedStage.to } }
              : {}),
          }),
      },
    );
    Object.assign(timingsMs, prefix.timingsMs);
    timingsMs.prefixPrefill = performance.now() - t0;
    if (key) prefixes.set(key, prefix, bytesOf(prefix));
  }

  // Phase 4-5: the question and the streamed answer.
  const beforeQuestion = performance.now() - started;
  const answer = await answerQuestion(
    model,
    prefix,
    tokenizer.encode(request.question + CHAT_QUESTION_SUFFIX),
    {
      maxNewTokens,
      temperature: request.temperature,
      topP: request.topP,
      topK: request.topK,
      seed: request.seed,
      signal,
      tokenizer,
      onToken: options.onToken,
      onProgress: (p, stage) => progress(0.7 + 0.3 * p, stage),
    },
  );
  Object.assign(timingsMs, answer.timingsMs);
  // From the request to the first generated token (decoding, prefix, question, first step).
  timingsMs.timeToFirstToken = beforeQuestion + (answer.timingsMs.firstTokenAfterQuestion ?? 0);
  if (computedPrefix && key && disk) {
    // Saved after the answer so the first token is not delayed by the write.
    const t0 = performance.now();
    await disk.save(key, prefix, kvShape).catch(() => undefined);
    timingsMs.prefixToDisk = performance.now() - t0;
  }
  timingsMs.total = performance.now() - started;
  progress(1, 'decode');
  return {
    answer: tokenizer.decode(answer.tokenIds),
    tokenIds: answer.tokenIds,
    executionProvider: model.executionProvider,
    ...(model.providerNotes.length > 0 ? { providerNotes: model.providerNotes } : {}),
    ...(model.executionProvider === 'cpu'
      ? {}
      : cpuNodesOfModel(model.modelDir, (id) => !/_decoder$/.test(id))),
    precision: model.manifest.dtype,
    timingsMs,
    prefixReused,
    ...(computedPrefix && prefix.stageMeasurements ? { stageMeasurements: prefix.stageMeasurements } : {}),
  };
}

/** The engine worker's chat entry point (main/model/engine/engine-worker.ts). */
export async function runChat(request: ChatRequest, options: ChatRunOptions = {}): Promise<ChatOutput> {
  // Loading is a stage of its own: at the real size a quantised model packs its weights (~30 s).
  options.onProgress?.({ progress: 0, stage: 'load' });
  const ep = request.executionProvider ?? 'cpu';
  const tuning = { prefixDiskDir: process.env[PREFIX_DIR_ENV] || undefined };
  let streamed = false;
  const tracked: ChatRunOptions = {
    ...options,
    onToken: (text) => {
      streamed = true;
      options.onToken?.(text);
    },
  };
  try {
    return await runChatOn(await getChatModel(request.modelDir, ep), request, tracked, tuning);
  } catch (error) {
    if (!(error instanceof Float16OverflowError)) throw error;
    // The folder's graphs compute in float32 from now on (the provider notes say why).
    markFloat16Overflow(request.modelDir);
    await releaseChatModel();
    if (streamed) {
      throw new StudioError(
        'internal',
        `The answer stopped: ${error.message} Part of it was already shown.`,
        'Ask again: the model now computes in float32 on the GPU, which does not overflow.',
        { cause: error },
      );
    }
    options.onProgress?.({ progress: 0, stage: 'load' });
    return runChatOn(await getChatModel(request.modelDir, ep), request, options, tuning);
  }
}
