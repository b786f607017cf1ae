// How much GPU memory a reconstruction or a question needs on a GPU provider, decided before
// it starts, from the CPU estimate's stage terms (memory-estimate.ts) and the
// adapter's limits: a run that fails half-way with a device out-of-memory or a
// "buffer exceeds the max buffer size" error is worse than a refusal up front.
//
// Two limits, both checked:
// - device memory: the weights each GPU session uploads + the stages'
//   activations, against the memory the adapter reports (nvidia-smi's free
//   memory, amdgpu's VRAM counters, or the system memory where the GPU shares
//   it); not checked where nothing reports it (most integrated GPUs on
//   Linux/Windows), and the estimate says so.
// - the largest single tensor against the device's maxBufferSize (WebGPU only;
//   read by the provider probe): the biggest weight, DINO's MLP rows and
//   attention probabilities, the LLM block's MLP rows and one query block's
//   attention scores, and a decoder batch.
//   ORT 1.30 keeps most tensors in one buffer; a bigger one fails.
//
// Unlike the CPU (one mapped copy of the weights shared by the LLM sessions,
// Gather tables paged in by row), every GPU session uploads its own copy of
// its graph's initializers, the token-embedding table included.

import { promises as fs } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { graphInitializers } from './graph-weights';
import { StudioError } from '../../common/errors';
import { readModelManifest } from '../runtime/model-manifest';
import { float16ComputeFor } from '../runtime/float16-compute-form';
import { queryChunkRows } from '../runtime/attention-budget';
import {
  chatMemory,
  dinoPatches,
  modelFootprint,
  modelInputSize,
  reconstructionMemory,
  RECON_GRAPHS,
  RECON_TEXT_TOKENS,
  type ChatMemoryBreakdown,
  type MemoryBreakdown,
  type ModelFootprint,
} from './memory-estimate';

const F32 = 4;
const FRAME_LIMIT = 4096;
/** Buffer bucketing and fragmentation on top of the tensors (the CPU arena's measured factor, assumed alike). */
export const ACTIVATION_OVERHEAD = 1.25;
/** Dawn's own buffers, shader caches and staging buffers (assumed, not measured on a GPU yet). */
export const DEVICE_BASELINE_BYTES = 256 * 2 ** 20;
/** Attention scores of one decoder run (DECODER_SCORE_BUDGET_BYTES in runtime/recon-pipeline.ts). */
const DECODER_SCORE_BUDGET_BYTES = 384 * 2 ** 20;

export type GpuProvider = 'webgpu' | 'cuda';

/** What the GPU lets a run use. */
export interface GpuLimits {
  provider: GpuProvider;
  /** Largest single buffer in bytes (WebGPU's maxBufferSize); null when not known. */
  maxBufferSize: number | null;
  /** Device memory free for the run, bytes; null when nothing reports it. */
  memoryBytes: number | null;
  /** Where memoryBytes comes from, in words. */
  memorySource: string;
  /**
   * fp16 weights stay fp16 on the device (WebGPU with shader-f16 runs the
   * graphs' fp16-compute forms: runtime/float16-compute-form.ts). Otherwise
   * a session widens each fp16 weight to float32 at load: twice its bytes.
   */
  float16Compute?: boolean;
}

/** The weights the GPU sessions of a reconstruction upload. */
export interface DeviceWeights {
  /** Sum over the graphs (each session holds its own copy). */
  bytes: number;
  /** The biggest single initializer. */
  largest: { name: string; bytes: number };
}

/**
 * Bytes of the initializers each of the given graphs uploads (ranges counted
 * once per graph, Gather tables included), and the largest one. Undefined when
 * a graph file is missing or unreadable.
 */
export async function deviceWeights(
  modelDir: string,
  graphs: Record<string, { file?: unknown }>,
  ids: readonly string[],
  /** fp16 weights are uploaded as float32 (the session folds their widening Cast). */
  widenHalf = false,
): Promise<DeviceWeights | undefined> {
  let bytes = 0;
  let largest = { name: '', bytes: 0 };
  for (const id of ids) {
    const file = graphs[id]?.file;
    if (typeof file !== 'string') return undefined;
    const initializers = await graphInitializers(join(modelDir, file));
    if (!initializers) return undefined;
    const ranges = new Map<string, number>();
    for (const init of initializers) {
      const uploaded = widenHalf && init.half ? 2 * init.bytes : init.bytes;
      ranges.set(init.range, uploaded);
      if (uploaded > largest.bytes) largest = { name: `${id}: ${init.name || '?'}`, bytes: uploaded };
    }
    for (const length of ranges.values()) bytes += length;
  }
  return { bytes, largest };
}

/** The graphs of a converted model folder; undefined for a checkpoint folder or a broken manifest. */
function convertedGraphs(modelDir: string): Record<string, { file?: unknown }> | undefined {
  try {
    return readModelManifest(modelDir).graphs;
  } catch {
    return undefined;
  }
}

async function convertedDeviceWeights(
  modelDir: string,
  widenHalf: boolean,
): Promise<DeviceWeights | undefined> {
  const graphs = convertedGraphs(modelDir);
  if (!graphs) return undefined;
  // The standard graphs: a WebGPU variant holds the same initializers (webgpu-graph-variants.test.ts),
  // and the CPU estimate has just summarised these files (graph-weights.ts).
  // One LLM session: llm_one (runtime/llm-runner.ts) holds llm_block's initializers; llm_causal is not loaded.
  return deviceWeights(
    modelDir,
    graphs,
    RECON_GRAPHS.filter((id) => id !== 'llm_causal'),
    widenHalf,
  );
}

export interface GpuMemoryBreakdown {
  weightsBytes: number;
  activationBytes: number;
  baselineBytes: number;
  /** Device bytes at the peak. */
  deviceBytes: number;
  /** The largest single tensor of the run and what it is. */
  largestTensor: { name: string; bytes: number };
}

/**
 * Device memory of a reconstruction of N frames at model input `width`×`height`,
 * from the CPU breakdown's stage activations (the same tensors live on the
 * device) and the weights the GPU sessions upload. The outputs stay on the CPU.
 */
export function gpuReconstructionMemory(
  cpu: MemoryBreakdown,
  model: ModelFootprint,
  weights: DeviceWeights,
  frameCount: number,
  width: number,
  height: number,
): GpuMemoryBreakdown {
  const { text, dino, decoders } = model.config;
  const N = frameCount;
  const P = dinoPatches(model.config, width, height);
  // The decoders run in batches of frames (runtime/recon-pipeline.ts): one batch's
  // share of the CPU term, plus the LLM output every batch reads from.
  const decoderFramesPerRun = Math.max(
    1,
    Math.min(N, Math.floor(DECODER_SCORE_BUDGET_BYTES / (decoders.numHeads * P * P * F32))),
  );
  const decoderBytes = (cpu.decoderBytes * decoderFramesPerRun) / N + N * P * decoders.width * F32;
  // The WebGPU graphs compute attention as MatMul → Softmax → MatMul (docs/webgpu.md): DINO's
  // scores and their probabilities are both live, one more P×P per head and frame than the CPU
  // estimate's Attention holds (the LLM and decoder terms already count both).
  const dinoBytes = cpu.dinoBytes + N * dino.numHeads * P * P * F32;
  const activationBytes = ACTIVATION_OVERHEAD * (dinoBytes + cpu.llmBytes + decoderBytes);

  // The candidates for the largest single tensor (model doc §8 dataflow).
  const dinoRows = N * (1 + dino.numRegisters + P);
  const Lq = N * (P + 2);
  const Lk = RECON_TEXT_TOKENS + Lq;
  const llmQueryBlock = Math.min(Lq, queryChunkRows(text.numHeads, Lk));
  const candidates = [
    weights.largest,
    { name: 'DINO MLP rows', bytes: dinoRows * dino.mlpHiddenSize * F32 },
    { name: 'DINO attention probabilities', bytes: N * dino.numHeads * P * P * F32 },
    { name: 'LLM MLP rows', bytes: Lq * text.intermediateSize * F32 },
    // The query blocks of the LLM's non-causal graph (runtime/attention-budget.ts): at least 64 rows.
    { name: 'LLM attention scores', bytes: text.numHeads * llmQueryBlock * Lk * F32 },
    { name: 'decoder attention probabilities', bytes: decoderFramesPerRun * decoders.numHeads * P * P * F32 },
    { name: 'decoder MLP rows', bytes: decoderFramesPerRun * P * decoders.mlpRatio * decoders.width * F32 },
  ];
  const largestTensor = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return {
    weightsBytes: weights.bytes,
    activationBytes,
    baselineBytes: DEVICE_BASELINE_BYTES,
    deviceBytes: weights.bytes + activationBytes + DEVICE_BASELINE_BYTES,
    largestTensor,
  };
}

/**
 * The graphs a question's GPU sessions upload: DINO, the vision tower, the
 * token embedding, and the LLM's layers. One layer session is on the device at
 * a time (llm-runner.ts): the one-graph LLM (llm_block's initializers) for a
 * new prefix, or the decode graph (the und layers, the LM head and an
 * embedding table of its own) for the questions. Counted as llm_block + the
 * LM head + a second embedding table: an upper bound of either.
 */
async function chatDeviceWeights(modelDir: string, widenHalf: boolean): Promise<DeviceWeights | undefined> {
  const graphs = convertedGraphs(modelDir);
  if (!graphs) return undefined;
  const sessions = await deviceWeights(
    modelDir,
    graphs,
    ['dino', 'vision_tower', 'embed_tokens', 'llm_block', 'lm_head'],
    widenHalf,
  );
  const decodeTable = await deviceWeights(modelDir, graphs, ['embed_tokens'], widenHalf);
  if (!sessions || !decodeTable) return undefined;
  return { bytes: sessions.bytes + decodeTable.bytes, largest: sessions.largest };
}

/**
 * Device memory of one question over N frames: the CPU breakdown's stage terms
 * (the same tensors live on the device, the decode loop's KV cache included:
 * chat-decoder.ts keeps it there, the input and the updated copy during a
 * step) with DINO's MatMul/Softmax scores beside its probabilities, and the
 * weights the GPU sessions upload. The largest single tensor is checked too.
 */
export function gpuChatMemory(
  cpu: ChatMemoryBreakdown,
  model: ModelFootprint,
  weights: DeviceWeights,
  frameCount: number,
  width: number,
  height: number,
): GpuMemoryBreakdown {
  const { text, dino, vit } = model.config;
  const N = frameCount;
  const P = dinoPatches(model.config, width, height);
  const dinoBytes = cpu.dinoBytes + N * dino.numHeads * P * P * F32;
  const activationBytes = ACTIVATION_OVERHEAD * (dinoBytes + cpu.visionBytes + cpu.llmBytes);
  const { visionPatches, llmQueryRows, llmKeys } = cpu.sizes;
  const candidates = [
    weights.largest,
    { name: 'DINO attention probabilities', bytes: N * dino.numHeads * P * P * F32 },
    { name: 'vision tower attention scores', bytes: vit.numHeads * visionPatches * visionPatches * F32 },
    { name: 'LLM MLP rows', bytes: llmQueryRows * text.intermediateSize * F32 },
    { name: 'LLM attention scores', bytes: text.numHeads * llmQueryRows * llmKeys * F32 },
  ];
  return {
    weightsBytes: weights.bytes,
    activationBytes,
    baselineBytes: DEVICE_BASELINE_BYTES,
    deviceBytes: weights.bytes + activationBytes + DEVICE_BASELINE_BYTES,
    largestTensor: candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a)),
  };
}

export interface GpuMemoryEstimate {
  /** What would run: a reconstruction, or a question over the frames. */
  job: 'reconstruction' | 'chat';
  provider: GpuProvider;
  frameCount: number;
  breakdown: GpuMemoryBreakdown;
  limits: GpuLimits;
  fits: boolean;
  /** Largest frame count that fits both limits at this resolution. */
  maxFrames: number;
  /** Which limit refuses (absent when it fits). */
  refusedBy?: 'device memory' | 'buffer size';
}

function fitsLimits(b: GpuMemoryBreakdown, limits: GpuLimits): GpuMemoryEstimate['refusedBy'] | 'fits' {
  if (limits.memoryBytes !== null && b.deviceBytes > limits.memoryBytes) return 'device memory';
  if (limits.maxBufferSize !== null && b.largestTensor.bytes > limits.maxBufferSize) return 'buffer size';
  return 'fits';
}

/** The GPU estimate for N frames at model input `width`×`height`, with the largest frame count that fits. */
export function gpuEstimateFor(
  footprint: ModelFootprint,
  weights: DeviceWeights,
  frameCount: number,
  width: number,
  height: number,
  limits: GpuLimits,
  job: GpuMemoryEstimate['job'] = 'reconstruction',
): GpuMemoryEstimate {
  const at = (n: number): GpuMemoryBreakdown =>
    job === 'chat'
      ? gpuChatMemory(chatMemory(footprint, n, width, height), footprint, weights, n, width, height)
      : gpuReconstructionMemory(
          reconstructionMemory(footprint, n, width, height),
          footprint,
          weights,
          n,
          width,
          height,
        );
  const breakdown = at(frameCount);
  const verdict = fitsLimits(breakdown, limits);
  // Both terms grow with N: binary-search the largest N that fits.
  let low = 0;
  let high = FRAME_LIMIT;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fitsLimits(at(mid), limits) === 'fits') low = mid;
    else high = mid - 1;
  }
  return {
    job,
    provider: limits.provider,
    frameCount,
    breakdown,
    limits,
    fits: verdict === 'fits',
    maxFrames: low,
    ...(verdict === 'fits' ? {} : { refusedBy: verdict }),
  };
}

/** The GPU estimate of reconstructing a model folder's frames of a source size. */
export function estimateGpuReconstructionMemory(
  modelDir: string,
  frameCount: number,
  sourceWidth: number,
  sourceHeight: number,
  limits: GpuLimits,
  options: { modelLoaded?: boolean } = {},
): Promise<GpuMemoryEstimate> {
  return estimateGpuJobMemory(
    'reconstruction',
    modelDir,
    frameCount,
    sourceWidth,
    sourceHeight,
    limits,
    options,
  );
}

/** The GPU estimate of a question over a model folder's frames of a source size. */
export function estimateGpuChatMemory(
  modelDir: string,
  frameCount: number,
  sourceWidth: number,
  sourceHeight: number,
  limits: GpuLimits,
  options: { modelLoaded?: boolean } = {},
): Promise<GpuMemoryEstimate> {
  return estimateGpuJobMemory('chat', modelDir, frameCount, sourceWidth, sourceHeight, limits, options);
}

async function estimateGpuJobMemory(
  job: GpuMemoryEstimate['job'],
  modelDir: string,
  frameCount: number,
  sourceWidth: number,
  sourceHeight: number,
  limits: GpuLimits,
  options: { modelLoaded?: boolean },
): Promise<GpuMemoryEstimate> {
  if (!Number.isSafeInteger(frameCount) || frameCount < 1) {
    throw new StudioError(
      'invalid-input',
      `The frame count ${frameCount} is not valid.`,
      'Select at least one frame.',
    );
  }
  const footprint = await modelFootprint(modelDir, job);
  const converted =
    job === 'chat'
      ? await chatDeviceWeights(modelDir, !limits.float16Compute)
      : await convertedDeviceWeights(modelDir, !limits.float16Compute);
  const weights = converted ?? {
    // Not converted yet: the checkpoint's weight bytes (the LLM's shared copy counted once).
    bytes: footprint.weightsBytes,
    largest: { name: 'weights', bytes: 0 },
  };
  const input = modelInputSize(sourceWidth, sourceHeight);
  // A model the GPU already holds: its weights are in use, not needed again.
  const available =
    options.modelLoaded && limits.memoryBytes !== null
      ? { ...limits, memoryBytes: limits.memoryBytes + weights.bytes }
      : limits;
  return gpuEstimateFor(footprint, weights, frameCount, input.width, input.height, available, job);
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const LABEL: Record<GpuProvider, string> = { webgpu: 'WebGPU', cuda: 'CUDA' };

export function insufficientGpuMemoryError(estimate: GpuMemoryEstimate): StudioError {
  const { breakdown: b, limits } = estimate;
  const reason =
    estimate.refusedBy === 'buffer size'
      ? `its largest tensor (${b.largestTensor.name}, ${gib(b.largestTensor.bytes)}) is over the GPU's ${gib(limits.maxBufferSize ?? 0)} buffer limit`
      : `it needs about ${gib(b.deviceBytes)} of GPU memory, ${gib(limits.memoryBytes ?? 0)} free (${limits.memorySource})`;
  const what = estimate.job === 'chat' ? 'A question over' : 'Reconstructing';
  return new StudioError(
    'insufficient-memory',
    `${what} ${estimate.frameCount} frames on the GPU (${LABEL[estimate.provider]}) does not fit: ${reason}; ` +
      (estimate.maxFrames > 0
        ? `the largest number of frames that fits is ${estimate.maxFrames}.`
        : 'not even one frame fits.'),
    estimate.maxFrames > 0
      ? `Select at most ${estimate.maxFrames} frames, or run on the CPU (--provider cpu).`
      : 'Run on the CPU (--provider cpu), or use a lower precision (int8/int4) model.',
  );
}

/** Free memory of the first NVIDIA GPU (nvidia-smi memory.free, MiB), or null. */
export function nvidiaFreeMemoryBytes(): Promise<number | null> {
  return new Promise((resolve) =>
    execFile(
      'nvidia-smi',
      ['--query-gpu=memory.free', '--format=csv,noheader,nounits'],
      { timeout: 5000, windowsHide: true },
      (error, stdout) => {
        const mib = Number(stdout.trim().split('\n')[0]);
        resolve(error || !Number.isFinite(mib) || mib <= 0 ? null : mib * 2 ** 20);
      },
    ),
  );
}

/** Free VRAM of the first amdgpu card (Linux sysfs), or null. */
export async function amdgpuFreeMemoryBytes(drmDir = '/sys/class/drm'): Promise<number | null> {
  let cards: string[];
  try {
    cards = (await fs.readdir(drmDir)).filter((c) => /^card\d+$/.test(c)).sort();
  } catch {
    return null;
  }
  for (const card of cards) {
    try {
      const read = async (f: string): Promise<number> =>
        Number((await fs.readFile(join(drmDir, card, 'device', f), 'utf8')).trim());
      const total = await read('mem_info_vram_total');
      const used = await read('mem_info_vram_used');
      if (Number.isFinite(total) && Number.isFinite(used) && total > 0) return Math.max(0, total - used);
    } catch {
      // not an amdgpu card
    }
  }
  return null;
}

/**
 * The limits of the GPU a run would use: maxBufferSize from the WebGPU probe;
 * memory from nvidia-smi, amdgpu's sysfs counters, or (Apple silicon, whose GPU
 * shares the system memory) the free system memory.
 */
export async function gpuLimits(
  provider: GpuProvider,
  probe: {
    maxBufferSize?: number | null;
    shaderF16?: boolean | null;
    devices: Array<{ vendor: string; kind: string }>;
  },
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): Promise<GpuLimits> {
  const limits = await deviceLimits(provider, probe, platform, arch);
  return { ...limits, float16Compute: float16ComputeFor(provider, probe.shaderF16) };
}

async function deviceLimits(
  provider: GpuProvider,
  probe: { maxBufferSize?: number | null; devices: Array<{ vendor: string; kind: string }> },
  platform: NodeJS.Platform,
  arch: string,
): Promise<GpuLimits> {
  const maxBufferSize = provider === 'webgpu' ? (probe.maxBufferSize ?? null) : null;
  const gpuVendors = probe.devices.filter((d) => d.kind === 'gpu').map((d) => d.vendor.toLowerCase());
  if (provider === 'cuda' || gpuVendors.some((v) => v.includes('nvidia'))) {
    const free = await nvidiaFreeMemoryBytes();
    if (free !== null) return { provider, maxBufferSize, memoryBytes: free, memorySource: 'nvidia-smi' };
  }
  if (platform === 'linux') {
    const free = await amdgpuFreeMemoryBytes();
    if (free !== null) return { provider, maxBufferSize, memoryBytes: free, memorySource: 'amdgpu VRAM' };
  }
  if (platform === 'darwin' && arch === 'arm64') {
    // Unified memory: the GPU's buffers come out of the same free system memory.
    return {
      provider,
      maxBufferSize,
      memoryBytes: Math.min(freemem(), totalmem()),
      memorySource: 'unified memory',
    };
  }
  return { provider, maxBufferSize, memoryBytes: null, memorySource: 'not reported by this GPU' };
}
