// How the GPU benchmark's measurements (gpu-bench.ts) become figures: each
// against the CPU provider of the same run (speed-ups), the CPU's output of the
// same converted model (parity), the engine's GPU estimate (memory), or a
// float64 reference (attention), with the ratio the label names.
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import type { AttentionProbeRow } from './attention-probe';
import type { ProcessRun } from './bench-process';
import type { BenchFigure } from './bench-types';
import { chatAccuracy } from './chat-accuracy';
import { CHAT_PROBE_IMAGES, type ChatProbeResult } from './chat-probe';
import type { ReconChildResult, ReconTensorFiles } from './gpu-bench-child';
import type { GpuMemoryPeak } from './gpu-monitor';
import { reconAccuracy, type ReconTensors } from './precision-accuracy';
import {
  estimateGpuChatMemory,
  estimateGpuReconstructionMemory,
  type GpuLimits,
  type GpuMemoryBreakdown,
  ACTIVATION_OVERHEAD,
  DEVICE_BASELINE_BYTES,
} from '../model/engine/gpu-memory-estimate';
import type { GpuProviderName } from '../model/runtime/provider-probe';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/**
 * The GPU's memory during a run beside the engine's estimate of it, and the
 * activation factor the measurement implies once the weights and the
 * provider's own baseline (measured with the attention probe) are taken off.
 */
export function memoryFigures(
  label: string,
  memory: GpuMemoryPeak | null,
  estimate: GpuMemoryBreakdown,
  providerBaselineBytes: number | null,
): BenchFigure[] {
  if (!memory || memory.samples === 0) return [];
  const usedBytes = (memory.peakMiB - memory.idleMiB) * MiB;
  const figures: BenchFigure[] = [
    {
      label: `${label}: GPU memory, nvidia-smi peak − idle (ratio = engine estimate / measured)`,
      value: usedBytes / GiB,
      unit: 'GiB',
      baseline: { label: 'engine GPU estimate', value: estimate.deviceBytes / GiB },
      ratio: usedBytes > 0 ? estimate.deviceBytes / usedBytes : NaN,
    },
  ];
  const tensorBytes = estimate.activationBytes / ACTIVATION_OVERHEAD;
  if (providerBaselineBytes !== null && tensorBytes > 0) {
    const factor = (usedBytes - estimate.weightsBytes - providerBaselineBytes) / tensorBytes;
    figures.push({
      label: `${label}: activation factor the measurement implies, (measured − estimated weights − provider baseline) / estimated activation tensors`,
      value: factor,
      unit: '×',
      baseline: { label: 'factor the estimate assumes', value: ACTIVATION_OVERHEAD },
      ratio: factor / ACTIVATION_OVERHEAD,
    });
  }
  return figures;
}

export function speedFigure(label: string, unit: string, gpu: number, cpu: number): BenchFigure {
  return {
    label: `${label} (ratio = CPU / GPU: speed-up)`,
    value: gpu,
    unit,
    baseline: { label: 'CPU provider, same run', value: cpu },
    ratio: cpu / gpu,
  };
}

/** A provider's own GPU memory: the attention probe's process, which holds only small graphs. */
export function providerBaselineFigure(provider: GpuProviderName, bytes: number): BenchFigure {
  return {
    label: `${provider} baseline: GPU memory of a process running only the attention probe's small graphs (ratio = measured / the estimate's allowance)`,
    value: bytes / MiB,
    unit: 'MiB',
    baseline: { label: "the GPU estimate's device baseline", value: DEVICE_BASELINE_BYTES / MiB },
    ratio: bytes / DEVICE_BASELINE_BYTES,
  };
}

function sumCounts(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function countsLine(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([graph, n]) => `${graph} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * Limits that check nothing: the bench wants the estimate's figure, not its
 * verdict. `float16Compute`: fp16 weights stay fp16 on this GPU (shader-f16).
 */
function estimateOnly(provider: GpuProviderName, float16Compute: boolean): GpuLimits {
  return {
    provider,
    maxBufferSize: null,
    memoryBytes: null,
    memorySource: 'not checked (benchmark)',
    float16Compute,
  };
}

// ---------------------------------------------------------------------------
// Reconstruction

export interface ReconRun {
  result: ReconChildResult;
  run: ProcessRun;
  memory: GpuMemoryPeak | null;
  /** Seconds of the warm runs' median (the first run when there is none). */
  seconds: number;
  /** Stage → ms, median over the warm runs. */
  stages: Record<string, number>;
}

async function readFloats(path: string): Promise<Float32Array> {
  // A copy: a small file's Buffer can sit in Node's pool at an offset a Float32Array cannot view.
  return new Float32Array(new Uint8Array(await fs.readFile(path)).buffer);
}

export async function readTensors(files: ReconTensorFiles, frameCount: number): Promise<ReconTensors> {
  return {
    frameCount,
    worldPoints: await readFloats(files.worldPoints),
    localPoints: await readFloats(files.localPoints),
    worldFromCamera: await readFloats(files.worldFromCamera),
  };
}

/** Largest |a − b| over entries finite in both, the reference's largest |value|, and finiteness mismatches. */
function maxAbsDifference(
  a: Float32Array,
  reference: Float32Array,
): { maxAbs: number; scale: number; nonFinite: number } {
  let maxAbs = 0;
  let scale = 0;
  let nonFinite = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = a[i];
    const y = reference[i];
    if (Number.isFinite(x) !== Number.isFinite(y)) nonFinite++;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    maxAbs = Math.max(maxAbs, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(y));
  }
  return { maxAbs, scale, nonFinite };
}

const STAGES = ['dino', 'geometry-prefill', 'decoders', 'heads'];

export async function reconFigures(
  label: string,
  provider: GpuProviderName,
  gpu: ReconRun,
  cpu: ReconRun,
  modelDir: string,
  quantisation: { p99: number; against: string } | null,
  providerBaselineBytes: number | null,
  float16Compute: boolean,
): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  const figures: BenchFigure[] = [
    speedFigure(`${label}: reconstruction, warm run`, 's', gpu.seconds, cpu.seconds),
    speedFigure(
      `${label}: first run (sessions load, shaders compile)`,
      's',
      gpu.result.firstSeconds,
      cpu.result.firstSeconds,
    ),
  ];
  for (const stage of STAGES)
    if (gpu.stages[stage] !== undefined && cpu.stages[stage] !== undefined)
      figures.push(speedFigure(`${label}: stage ${stage}`, 'ms', gpu.stages[stage], cpu.stages[stage]));
  // Read from /proc (Linux only; elsewhere both are 0).
  if (gpu.run.peakBytes > 0 && cpu.run.peakBytes > 0)
    figures.push({
      label: `${label}: peak RSS of the process (ratio = GPU / CPU)`,
      value: gpu.run.peakBytes / GiB,
      unit: 'GiB',
      baseline: { label: 'CPU provider process', value: cpu.run.peakBytes / GiB },
      ratio: gpu.run.peakBytes / cpu.run.peakBytes,
    });
  // Parity: the GPU's output against the CPU's output of the same converted model.
  const [mine, reference] = await Promise.all([
    readTensors(gpu.result.files, gpu.result.frameCount),
    readTensors(cpu.result.files, cpu.result.frameCount),
  ]);
  const world = maxAbsDifference(mine.worldPoints, reference.worldPoints);
  const poses = maxAbsDifference(mine.worldFromCamera, reference.worldFromCamera);
  const accuracy = reconAccuracy(mine, reference);
  figures.push(
    {
      label: `${label}: world points vs the CPU, max abs error (ratio = relative to the largest coordinate)`,
      value: world.maxAbs,
      unit: '',
      baseline: { label: 'largest coordinate magnitude on the CPU', value: world.scale },
      ratio: world.maxAbs / Math.max(world.scale, 1e-30),
    },
    {
      label: `${label}: world points vs the CPU, per-point relative error p99`,
      value: accuracy.worldRelP99,
      unit: '',
      ...(quantisation
        ? {
            baseline: {
              label: `this precision vs ${quantisation.against} on the CPU`,
              value: quantisation.p99,
            },
            ratio: accuracy.worldRelP99 / Math.max(quantisation.p99, 1e-30),
          }
        : {}),
    },
    {
      label: `${label}: camera poses vs the CPU, max abs error of the 4x4 entries (ratio = relative to the largest entry)`,
      value: poses.maxAbs,
      unit: '',
      baseline: { label: 'largest entry magnitude on the CPU', value: poses.scale },
      ratio: poses.maxAbs / Math.max(poses.scale, 1e-30),
    },
  );
  const estimate = await estimateGpuReconstructionMemory(
    modelDir,
    gpu.result.frameCount,
    gpu.result.width,
    gpu.result.height,
    estimateOnly(provider, float16Compute),
  );
  figures.push(...memoryFigures(label, gpu.memory, estimate.breakdown, providerBaselineBytes));
  const cpuNodes = sumCounts(gpu.result.cpuNodes);
  const notes = [
    `${label}: ran on ${gpu.result.executionProvider}; ${cpuNodes} nodes on the CPU (${countsLine(gpu.result.cpuNodes)}); ` +
      `world points rel. error median ${accuracy.worldRelMedian.toPrecision(3)} / p99 ${accuracy.worldRelP99.toPrecision(3)}, ` +
      `local p99 ${accuracy.localRelP99.toPrecision(3)}, rotation ${accuracy.rotationDegMax.toPrecision(3)}°, ` +
      `translation rel. ${accuracy.translationRelMax.toPrecision(3)}` +
      (world.nonFinite > 0 ? `; ${world.nonFinite} coordinates finite on one provider only` : '') +
      `; GPU estimate ${(estimate.breakdown.deviceBytes / GiB).toFixed(2)} GiB (weights ${(estimate.breakdown.weightsBytes / GiB).toFixed(2)}, activations ${(estimate.breakdown.activationBytes / GiB).toFixed(2)}).`,
    ...gpu.result.providerNotes.map((n) => `${label}: ${n}`),
  ];
  return { figures, notes };
}

// ---------------------------------------------------------------------------
// Chat

export interface ChatRun {
  result: Omit<ChatProbeResult, 'logits'>;
  logits: Float32Array;
  run: ProcessRun;
  memory: GpuMemoryPeak | null;
}

export async function chatFigures(
  label: string,
  provider: GpuProviderName,
  gpu: ChatRun,
  cpu: ChatRun,
  modelDir: string,
  providerBaselineBytes: number | null,
  float16Compute: boolean,
): Promise<{ figures: BenchFigure[]; notes: string[] }> {
  const accuracy = chatAccuracy(gpu.logits, cpu.logits, cpu.result.vocab);
  const figures: BenchFigure[] = [
    speedFigure(
      `${label}: prefill (system + geometry + vision)`,
      's',
      gpu.result.prefixPrefillMs / 1000,
      cpu.result.prefixPrefillMs / 1000,
    ),
    speedFigure(
      `${label}: decode (KV cache on the device)`,
      'ms/token',
      gpu.result.decodeMsPerToken,
      cpu.result.decodeMsPerToken,
    ),
    {
      label: `${label}: top-1 agreement with the CPU, teacher-forced over ${accuracy.steps} steps`,
      value: 100 * accuracy.top1Agreement,
      unit: '%',
      baseline: { label: 'full agreement', value: 100 },
      ratio: accuracy.top1Agreement,
    },
    {
      label: `${label}: max logit difference vs the CPU (ratio = share of the CPU's logit span)`,
      value: accuracy.maxLogitDiff,
      unit: '',
      baseline: { label: "CPU logits' span", value: accuracy.referenceLogitRange },
      ratio: accuracy.maxLogitDiff / Math.max(accuracy.referenceLogitRange, 1e-30),
    },
  ];
  const image = await sharp(CHAT_PROBE_IMAGES[0]).metadata();
  const estimate = await estimateGpuChatMemory(
    modelDir,
    1,
    image.width ?? 1,
    image.height ?? 1,
    estimateOnly(provider, float16Compute),
  );
  figures.push(...memoryFigures(label, gpu.memory, estimate.breakdown, providerBaselineBytes));
  const notes = [
    `${label}: ran on ${gpu.result.executionProvider}; ${sumCounts(gpu.result.cpuNodes ?? {})} nodes on the CPU (${countsLine(gpu.result.cpuNodes ?? {})}).`,
    ...gpu.result.providerNotes.map((n) => `${label}: ${n}`),
  ];
  return { figures, notes };
}

// ---------------------------------------------------------------------------
// Golden parity and attention accuracy

/** The parts of verify-golden's JSON report read here (model-tool-commands.ts). */
interface GoldenJson {
  executionProvider?: string;
  cpuNodes?: Record<string, number>;
  entries?: Array<{
    name: string;
    maxAbs: number | null;
    atol: number;
    pass: boolean;
    skipped?: string;
  }>;
}

/**
 * The figures of `g2studio --json --provider <p> model verify-golden`'s output;
 * null when it printed no report (it did not get as far as comparing).
 */
export function goldenFigures(
  provider: GpuProviderName,
  stdout: string,
  seconds: number,
): { figures: BenchFigure[]; notes: string[]; line: string } | null {
  // The report, then (when a tensor failed) the error as a second document.
  const [first, second] = stdout.split(/\n(?=\{)/);
  let report: GoldenJson;
  try {
    report = JSON.parse(first) as GoldenJson;
  } catch {
    return null;
  }
  if (!report.entries) return null;
  const error = ((): { message: string } | undefined => {
    try {
      return second ? (JSON.parse(second) as { error?: { message: string } }).error : undefined;
    } catch {
      return undefined;
    }
  })();
  const compared = report.entries.filter((e) => !e.skipped);
  const passed = compared.filter((e) => e.pass).length;
  // The tensor whose error is the largest share of its tolerance.
  const worst = compared
    .filter((e) => e.atol > 0)
    .map((e) => ({ ...e, share: (e.maxAbs ?? Infinity) / e.atol }))
    .sort((x, y) => y.share - x.share);
  const label = `golden tiny-a, verify-golden on ${provider}`;
  const figures: BenchFigure[] = [
    {
      label: `${label}: tensors within tolerance`,
      value: passed,
      unit: 'tensors',
      baseline: { label: 'tensors compared', value: compared.length },
      ratio: compared.length > 0 ? passed / compared.length : NaN,
    },
  ];
  if (worst[0])
    figures.push({
      label: `${label}: largest error, ${worst[0].name} (ratio = share of its tolerance)`,
      value: worst[0].maxAbs ?? Infinity,
      unit: '',
      baseline: { label: 'its atol', value: worst[0].atol },
      ratio: worst[0].share,
    });
  const largest = worst
    .slice(0, 4)
    .map((e) => `${e.name} ${(e.maxAbs ?? Infinity).toPrecision(2)} (atol ${e.atol.toPrecision(2)})`)
    .join(', ');
  return {
    figures,
    notes: [
      `${label}: ran on ${report.executionProvider ?? '?'} in ${seconds.toFixed(0)} s; ${sumCounts(report.cpuNodes ?? {})} nodes on the CPU (${countsLine(report.cpuNodes ?? {})}); ` +
        `largest errors: ${largest}${error ? `; ${error.message}` : '.'}`,
    ],
    line: `${label}: ${passed}/${compared.length} tensors in ${seconds.toFixed(0)} s`,
  };
}

export function attentionFigures(rows: AttentionProbeRow[], provider: GpuProviderName): BenchFigure[] {
  return rows
    .filter((r) => r.provider === provider)
    .map((row) => {
      const cpu = rows.find((r) => r.provider === 'cpu' && r.name === row.name);
      const where = row.cpuOps ? ` (on the CPU: ${row.cpuOps})` : '';
      return {
        label: `attention on ${provider}, ${row.name}: max abs error vs float64${where}${row.error ? ` FAILED: ${row.error}` : ''} (ratio = GPU / CPU)`,
        value: row.maxAbs ?? NaN,
        unit: '',
        ...(cpu?.maxAbs !== null && cpu?.maxAbs !== undefined
          ? {
              baseline: { label: 'CPU provider', value: cpu.maxAbs },
              ratio: (row.maxAbs ?? NaN) / cpu.maxAbs,
            }
          : {}),
      };
    });
}
