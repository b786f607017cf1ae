// How much memory a reconstruction needs, decided before it starts: running out
// of memory half-way through a 2-minute run (or being killed by the OOM killer,
// which the user sees as a crash) is worse than a clear refusal up front.
//
// The figure is a model, not a measurement: the weights the job's sessions
// really hold + every stage's activations + the outputs, per stage from the
// dataflow of model doc §8 and the ONNX Runtime behaviour in
// onnx-runtime-notes §6-7 (Attention materialises the Hq·Lq·Lk score matrix).
//
// Weights, per precision, are read from the converted graphs themselves (each
// initializer's byte range in the external-data file), for the graphs the job
// loads only: reconstruction never loads the vision tower or the LM head. The
// LLM graphs share one mapped copy (prepacking off, runtime/llm-runner.ts);
// DINO and the decoders prepack, and ORT then releases the mapped original,
// so every byte range counts once. The token-embedding table is a Gather
// table: only the rows a job looks up are ever paged in.

import { promises as fs } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';
import { graphInitializers } from './graph-weights';
import { readG2vlmConfig, type G2vlmConfig } from '../checkpoint/config';
import type { MemoryEstimate } from './engine-types';
import { queryChunkRows } from '../runtime/attention-budget';

const F32 = 4;
/**
 * Node, the studio and ONNX Runtime with its thread pools (~350 MiB before any
 * model is loaded), plus what the allocator keeps of the stages already run:
 * DINO and the decoders run without ORT's arena, and the C allocator retains
 * 0.4-0.9 GiB of their freed buffers (measured on the real architecture,
 * anonymous memory after DINO; it varies from run to run).
 */
const RUNTIME_BASELINE_BYTES = 850 * 2 ** 20;
/** "Reconstruct the 3D scene." with its BOS (model doc §3.1). */
export const RECON_TEXT_TOKENS = 9;
const FRAME_LIMIT = 4096;
/** Arena rounding and fragmentation on top of the tensors themselves (measured, see below). */
const ACTIVATION_OVERHEAD = 1.25;

/** The model input size for a source frame (model doc §2.1: width 518, height rounded half-to-even to 14). */
export function modelInputSize(
  width: number,
  height: number,
  targetWidth = 518,
): { width: number; height: number } {
  if (!(width > 0 && height > 0)) {
    throw new StudioError(
      'invalid-input',
      `The frame size ${width}x${height} is not valid.`,
      'Re-import the frames.',
    );
  }
  const rows = (height * targetWidth) / width / 14;
  const floor = Math.floor(rows);
  const diff = rows - floor;
  // Python's round(): ties go to the even integer.
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return { width: targetWidth, height: Math.max(14, rounded * 14) };
}

export interface MemoryBreakdown {
  weightsBytes: number;
  /** ORT's prepacked copies of MatMul weights (anonymous memory, onnx-runtime-notes §7). */
  prepackedBytes: number;
  dinoBytes: number;
  llmBytes: number;
  decoderBytes: number;
  outputBytes: number;
  baselineBytes: number;
  peakBytes: number;
}

export interface ModelFootprint {
  config: G2vlmConfig;
  /**
   * Bytes of weights a reconstruction keeps resident: the recon graphs'
   * initializers, each byte range once, without the embedding table (a
   * converted model); or the checkpoint's weight files (not yet converted).
   */
  weightsBytes: number;
  /** Whether the runtime lets ORT prepack weights (default true). */
  prepacking: boolean;
}

/**
 * DINO over N frames of P patches: the packed (N·(1+R+P), Dd) stream, ~8 live
 * copies (residual, LN, q, k, v, attention output, MLP input), the 4·Dd MLP
 * hidden, the per-window P×P scores of every head, and the normalised input
 * images with their resized copy.
 */
function dinoActivationBytes(config: G2vlmConfig, N: number, P: number, pixels: number): number {
  const { dino } = config;
  const rows = N * (1 + dino.numRegisters + P);
  return (
    F32 * (rows * dino.hiddenSize * 8 + rows * dino.mlpHiddenSize * 2 + N * dino.numHeads * P * P) +
    F32 * pixels * 3 * 2
  );
}

/** DINO's patches per frame at model input size `width`×`height`. */
export function dinoPatches(config: G2vlmConfig, width: number, height: number): number {
  const patch = config.dino.patchSize;
  return Math.floor(height / patch) * Math.floor(width / patch);
}

/** Peak bytes of a reconstruction of `frameCount` frames at model input size `width`×`height`. */
export function reconstructionMemory(
  model: ModelFootprint,
  frameCount: number,
  width: number,
  height: number,
): MemoryBreakdown {
  const { text, decoders } = model.config;
  const N = frameCount;
  const P = dinoPatches(model.config, width, height);
  const pixels = N * width * height;

  const dinoBytes = dinoActivationBytes(model.config, N, P, pixels);

  // LLM geometry prefill: Lq = N·(P+2) new rows over Lk = text + Lq keys.
  const Lq = N * (P + 2);
  const Lk = RECON_TEXT_TOKENS + Lq;
  const kvCache = Lk * text.numLayers * 2 * text.numKvHeads * text.headDim * F32;
  // Attention scores, materialised by ORT's Attention (onnx-runtime-notes §6), plus the
  // softmax probabilities of the same size. The non-causal LLM graph runs its queries
  // in blocks whose scores stay under a budget (at least 64 queries per block).
  const scores = 2 * text.numHeads * Math.min(Lq, queryChunkRows(text.numHeads, Lk)) * Lk * F32;
  const hidden = Lk * text.hiddenSize * F32 * 8; // residual, norms, q/k/v, attention output, both experts' rows
  const mlp = Lq * text.intermediateSize * F32 * 3; // gate, up, their product
  const llmBytes = kvCache + scores + hidden + mlp;

  // Decoders: frames as the batch, width D, 16 heads of P×P scores, 4·D MLP; the
  // LLM output (N,P,D) stays alive for all three decoders.
  const D = decoders.width;
  const tokens = N * P;
  const decoderBytes =
    F32 * (tokens * D * 8 + tokens * decoders.mlpRatio * D * 2 + N * decoders.numHeads * P * P * 2) +
    F32 * tokens * (decoders.pointOutDim + decoders.pointHeadChannels) * 2;

  // Outputs: local, world, global points (+1 staging copy) and colours.
  const outputBytes = pixels * 3 * F32 * 4 + pixels * 3 + N * 16 * F32;

  const weightsBytes = model.weightsBytes;
  // The token embedding is a Gather table, not a MatMul weight: it is not prepacked.
  const embedBytes = text.vocabSize * text.hiddenSize * F32;
  const prepackedBytes = model.prepacking ? Math.max(0, weightsBytes - embedBytes) : 0;
  // Each ORT session keeps its own CPU memory arena at its high-water mark
  // (enableCpuMemArena is on by default), so the stages' activations add up instead
  // of taking turns; the arenas' rounding and fragmentation cost about a quarter more.
  // Measured on the medium model (query-blocked LLM attention): 1.37 GiB for 2 frames
  // (this model: 1.8), 3.64 GiB for 8 frames (this model: 3.7).
  const activations = ACTIVATION_OVERHEAD * (outputBytes + dinoBytes + llmBytes + decoderBytes);
  const peakBytes = weightsBytes + prepackedBytes + RUNTIME_BASELINE_BYTES + activations;
  return {
    weightsBytes,
    prepackedBytes,
    dinoBytes,
    llmBytes,
    decoderBytes,
    outputBytes,
    baselineBytes: RUNTIME_BASELINE_BYTES,
    peakBytes,
  };
}

/** The side the chat's vision tower sees: inference_chat.py's 768, then Qwen2-VL's smart_resize to a multiple of 28. */
function visionSide(imageSide: number, config: G2vlmConfig): number {
  const factor = config.vit.patchSize * config.vit.spatialMergeSize;
  return Math.max(factor, Math.round(imageSide / factor) * factor);
}

/** "<|im_start|>system…" + the question + the template around them, generously (the question is at most 8000 chars). */
const CHAT_TEXT_TOKENS = 2048;
/** Tokens a spatial answer may run to (the engine's default cap, with room). */
const CHAT_DECODE_TOKENS = 512;

export interface ChatMemoryBreakdown {
  weightsBytes: number;
  dinoBytes: number;
  visionBytes: number;
  llmBytes: number;
  baselineBytes: number;
  peakBytes: number;
  /** The sizes behind the terms, for the GPU estimate's largest-tensor check. */
  sizes: { visionPatches: number; llmQueryRows: number; llmKeys: number };
}

/**
 * Peak bytes of one question over `frameCount` frames (model doc §3.2): DINO
 * over all frames, the vision tower one image at a time (full attention: 16
 * heads of rows² scores and their softmax), then the LLM prefill in blocks
 * (the geometry block's queries chunked like reconstruction's) with the KV
 * cache of every row, which the decode loop copies into its own buffers.
 */
export function chatMemory(
  model: ModelFootprint,
  frameCount: number,
  dinoWidth: number,
  dinoHeight: number,
  imageSide = 768,
): ChatMemoryBreakdown {
  const { text, vit } = model.config;
  const N = frameCount;
  const P = dinoPatches(model.config, dinoWidth, dinoHeight);
  const dinoBytes = dinoActivationBytes(model.config, N, P, N * dinoWidth * dinoHeight);

  const side = visionSide(imageSide, model.config);
  const patches = (side / vit.patchSize) ** 2;
  const mergedTokens = patches / vit.spatialMergeSize ** 2;
  const vitMlp = vit.embedDim * vit.mlpRatio;
  const visionBytes =
    F32 *
    (patches * vit.embedDim * 8 +
      patches * vitMlp * 2 +
      2 * vit.numHeads * patches * patches +
      patches * (3 * 2 * vit.patchSize * vit.patchSize) * 2 + // processor rows and their copy
      N * mergedTokens * text.hiddenSize); // every image's merged tokens wait for the prefill

  // Prefill: the geometry block (N·(P+2) rows) is the largest; then each image's vision block.
  const geoRows = N * (P + 2);
  const rows = CHAT_TEXT_TOKENS + geoRows + N * (mergedTokens + 2);
  const keys = rows + CHAT_DECODE_TOKENS;
  const kvCache = keys * text.numLayers * 2 * text.numKvHeads * text.headDim * F32;
  const block = Math.max(geoRows, mergedTokens + 2);
  const queryRows = Math.min(block, queryChunkRows(text.numHeads, keys));
  const scores = 2 * text.numHeads * queryRows * keys * F32;
  const hidden = block * text.hiddenSize * F32 * 8 + rows * text.hiddenSize * F32; // + the assembled embeddings
  const mlp = block * text.intermediateSize * F32 * 3;
  const logits = text.vocabSize * F32 * 2;
  // The decode loop's own cache buffers (chat-decoder.ts DecodeCache) beside the prefill's present tensors.
  const llmBytes = 2 * kvCache + scores + hidden + mlp + logits;

  // Sessions keep their arenas at their high-water marks, as in reconstruction.
  const activations = ACTIVATION_OVERHEAD * (dinoBytes + visionBytes + llmBytes);
  const peakBytes = model.weightsBytes + RUNTIME_BASELINE_BYTES + activations;
  return {
    weightsBytes: model.weightsBytes,
    dinoBytes,
    visionBytes,
    llmBytes,
    baselineBytes: RUNTIME_BASELINE_BYTES,
    peakBytes,
    sizes: { visionPatches: patches, llmQueryRows: queryRows, llmKeys: keys },
  };
}

async function readNumber(path: string): Promise<number | undefined> {
  try {
    const text = (await fs.readFile(path, 'utf8')).trim();
    if (text === 'max') return undefined;
    const value = Number(text);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes this process can still use: free memory, bounded by a cgroup (container) limit if any. */
export async function availableMemoryBytes(): Promise<number> {
  let available = freemem();
  // cgroup v2, then v1. A limit above physical memory means "no limit".
  const v2Max = await readNumber('/sys/fs/cgroup/memory.max');
  if (v2Max !== undefined) {
    const current = (await readNumber('/sys/fs/cgroup/memory.current')) ?? 0;
    available = Math.min(available, Math.max(0, v2Max - current));
  } else {
    const v1Max = await readNumber('/sys/fs/cgroup/memory/memory.limit_in_bytes');
    if (v1Max !== undefined && v1Max < 2 ** 60) {
      const usage = (await readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes')) ?? 0;
      available = Math.min(available, Math.max(0, v1Max - usage));
    }
  }
  return available;
}

/** The graphs a reconstruction loads (runtime/recon-pipeline.ts): no vision tower, no LM head. */
export const RECON_GRAPHS = [
  'dino',
  'embed_tokens',
  'llm_causal',
  'llm_block',
  'point_decoder',
  'camera_decoder',
  'global_decoder',
] as const;

/** The graphs a question loads (chat/chat-model.ts): no geometry decoders. */
export const CHAT_GRAPHS = [
  'dino',
  'vision_tower',
  'embed_tokens',
  'llm_causal',
  'llm_block',
  'lm_head',
] as const;

/**
 * Weight bytes a job's sessions hold: every byte range once. fp16 counts as
 * float32 (twice its bytes): on the CPU an fp16 model runs from its float32
 * form (runtime/float32-form.ts), which holds what the fp32 model holds.
 */
async function jobWeightBytes(
  modelDir: string,
  graphs: Record<string, { file?: unknown }>,
  job: 'reconstruction' | 'chat',
  fp16: boolean,
  quantised = false,
): Promise<number | undefined> {
  const ids: readonly string[] = job === 'chat' ? CHAT_GRAPHS : RECON_GRAPHS;
  const all = await residentWeightBytes(modelDir, graphs, ids);
  if (all === undefined) return undefined;
  if (fp16) return 2 * all;
  if (job === 'chat' && quantised) {
    // The decode graph's session prepacks its own copy of the und expert and the LM head
    // (llm-runner.ts layerSessionTuning): the one-graph LLM's packed copy does not serve it.
    const decodeCopy = await residentWeightBytes(
      modelDir,
      graphs,
      ['llm_causal', 'lm_head'],
      (name) => !name.includes('_moe_geo'),
    );
    return decodeCopy === undefined ? undefined : all + decodeCopy;
  }
  return all;
}

/**
 * Bytes of the external-data ranges the given graphs reference, each range
 * once, leaving out Gather tables (only looked-up rows are paged in).
 * Undefined when a graph file is missing or unreadable.
 */
export async function residentWeightBytes(
  modelDir: string,
  graphs: Record<string, { file?: unknown }>,
  ids: readonly string[],
  /** Count only the initializers whose name passes (default: all). */
  keep: (initializerName: string) => boolean = () => true,
): Promise<number | undefined> {
  const ranges = new Map<string, number>();
  for (const id of ids) {
    const file = graphs[id]?.file;
    if (typeof file !== 'string') return undefined;
    const initializers = await graphInitializers(join(modelDir, file));
    if (!initializers) return undefined;
    for (const init of initializers)
      if (init.external && !init.gathered && keep(init.name)) ranges.set(init.range, init.bytes);
  }
  return [...ranges.values()].reduce((a, b) => a + b, 0);
}

async function folderBytes(dir: string, pattern: RegExp): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path, pattern);
    else if (entry.isFile() && pattern.test(entry.name)) total += (await fs.stat(path)).size;
  }
  return total;
}

/**
 * What a model folder weighs and how it is configured. Reads a converted model
 * (manifest.json with `configs` = the G2vlmConfig, plus graphs and external weights)
 * or, failing that, a checkpoint folder (the three *_config.json files + safetensors).
 */
export async function modelFootprint(
  modelDir: string,
  job: 'reconstruction' | 'chat' = 'reconstruction',
): Promise<ModelFootprint> {
  let manifest: Record<string, unknown> | undefined;
  try {
    manifest = JSON.parse(await fs.readFile(join(modelDir, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StudioError(
        'model-corrupt',
        `The manifest.json of ${modelDir} cannot be read.`,
        'Convert the checkpoint again with `g2studio model convert`.',
      );
    }
  }
  // The converter's manifest stores the parsed configuration as `configs`.
  const declared = (manifest?.configs ?? manifest?.config) as G2vlmConfig | undefined;
  if (declared && typeof declared === 'object' && declared.text && declared.dino && declared.decoders) {
    const graphs = manifest?.graphs as Record<string, { file?: unknown }> | undefined;
    const resident = graphs
      ? await jobWeightBytes(
          modelDir,
          graphs,
          job,
          manifest?.dtype === 'fp16',
          manifest?.dtype === 'int8' || manifest?.dtype === 'int4',
        )
      : undefined;
    return {
      config: declared,
      weightsBytes: resident ?? (await folderBytes(modelDir, /\.(onnx|data|bin|weights|onnx_data)$/i)),
      // Every range counts once (see the header): no extra prepacked copies on top.
      prepacking:
        resident === undefined && (manifest?.runtime as { prepacking?: unknown })?.prepacking !== false,
    };
  }
  const config = await readG2vlmConfig(modelDir);
  return { config, weightsBytes: await folderBytes(modelDir, /\.safetensors$/i), prepacking: true };
}

/** The estimate the engine returns, with the largest frame count that fits. */
export async function estimateReconstructionMemory(
  modelDir: string,
  frameCount: number,
  sourceWidth: number,
  sourceHeight: number,
  options: {
    availableBytes?: number;
    /** The engine already holds this model (its weights are in use, not needed again). */
    modelLoaded?: boolean;
  } = {},
): Promise<MemoryEstimate & { breakdown: MemoryBreakdown; inputWidth: number; inputHeight: number }> {
  if (!Number.isSafeInteger(frameCount) || frameCount < 1) {
    throw new StudioError(
      'invalid-input',
      `The frame count ${frameCount} is not valid.`,
      'Select at least one frame.',
    );
  }
  const footprint = await modelFootprint(modelDir);
  const input = modelInputSize(sourceWidth, sourceHeight);
  const breakdown = reconstructionMemory(footprint, frameCount, input.width, input.height);
  // A model the worker already holds is counted in the memory in use: the run
  // needs it once, not twice.
  const availableBytes =
    (options.availableBytes ?? (await availableMemoryBytes())) +
    (options.modelLoaded ? breakdown.weightsBytes + breakdown.prepackedBytes : 0);
  // The estimate grows with N, so binary-search the largest N that fits.
  let low = 0;
  let high = FRAME_LIMIT;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (reconstructionMemory(footprint, mid, input.width, input.height).peakBytes <= availableBytes)
      low = mid;
    else high = mid - 1;
  }
  return {
    peakBytes: breakdown.peakBytes,
    availableBytes,
    fits: breakdown.peakBytes <= availableBytes,
    maxFrames: low,
    breakdown,
    inputWidth: input.width,
    inputHeight: input.height,
  };
}

/** Frames a question can go to the model with (chat/frame-selection.ts CHAT_MAX_FRAMES). */
const CHAT_FRAME_LIMIT = 8;

/** The estimate for one question over `frameCount` frames of `sourceWidth`×`sourceHeight`, with the most frames that fit. */
export async function estimateChatMemory(
  modelDir: string,
  frameCount: number,
  sourceWidth: number,
  sourceHeight: number,
  options: { availableBytes?: number; modelLoaded?: boolean } = {},
): Promise<MemoryEstimate & { breakdown: ChatMemoryBreakdown }> {
  const footprint = await modelFootprint(modelDir, 'chat');
  const input = modelInputSize(sourceWidth, sourceHeight);
  const at = (n: number) => chatMemory(footprint, n, input.width, input.height);
  const breakdown = at(frameCount);
  const availableBytes =
    (options.availableBytes ?? (await availableMemoryBytes())) +
    (options.modelLoaded ? breakdown.weightsBytes : 0);
  let maxFrames = 0;
  while (maxFrames < CHAT_FRAME_LIMIT && at(maxFrames + 1).peakBytes <= availableBytes) maxFrames++;
  return {
    peakBytes: breakdown.peakBytes,
    availableBytes,
    fits: breakdown.peakBytes <= availableBytes,
    maxFrames,
    breakdown,
  };
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

export function insufficientMemoryError(
  frameCount: number,
  estimate: MemoryEstimate,
  job: 'reconstruction' | 'chat' = 'reconstruction',
): StudioError {
  return new StudioError(
    'insufficient-memory',
    `${job === 'chat' ? 'A question over' : 'Reconstructing'} ${frameCount} frames needs about ${gib(estimate.peakBytes)}, ${gib(estimate.availableBytes)} available; ` +
      (estimate.maxFrames > 0
        ? `the largest number of frames that fits is ${estimate.maxFrames}.`
        : 'not even one frame fits.'),
    estimate.maxFrames > 0
      ? `Select at most ${estimate.maxFrames} frames${job === 'chat' ? ' (a question goes to the model with the selected and marked frames)' : ''}, or close other programs and try again.`
      : 'Close other programs, or install the model at a smaller precision (int8 or int4: g2studio model precisions) or use a machine with more memory.',
  );
}
