// Model benchmarks (`npm run bench model`): the machine's float32 GEMM peak
// through ONNX Runtime, reconstruction time per stage for the golden tiny-a
// model (3 frames) and the shared "medium" size (8 frames of dl3dv-walk at
// 518x294), the achieved GFLOP/s against that peak, and the peak RSS of
// converting a multi-GB checkpoint. Reference figures are the official PyTorch
// implementation's, from shared/bench/g2vlm-medium/README.md.

import { spawn, spawnSync } from 'node:child_process';
import { SHARED_DIR } from './shared-dir';
import { existsSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { BenchFigure, BenchSection } from './bench-types';
import type { FrameInput, ReconstructionOutput } from '../model/engine/engine-types';
import { estimateReconstructionMemory } from '../model/engine/memory-estimate';
import { locateFfmpeg } from '../core/ingest/ffmpeg-locator';
import type { G2vlmConfig } from '../model/checkpoint/config';
import { generateRandomCheckpoint, RANDOM_CHECKPOINT_PRESETS } from '../model/checkpoint/random-checkpoint';
import type { CheckpointConfigFiles } from '../model/checkpoint/random-presets';
import { convertCheckpoint } from '../model/convert/convert-checkpoint';
import { releaseReconModels, runReconstruction } from '../model/runtime/recon-pipeline';
import { sessionOptions } from '../model/runtime/session';

/** Published figures of the official PyTorch implementation (shared/bench/g2vlm-medium/README.md). */
export const OFFICIAL = {
  gemmGflops: 185,
  mediumReconSeconds: 25.0,
  mediumDinoSeconds: 1.2,
  mediumPrefillSeconds: 11.4,
  mediumDecodersSeconds: 12.2,
  mediumPeakRssGiB: 2.5,
  mediumGflop: 2034,
  tinyReconSeconds: 3.1,
} as const;

const SHARED = SHARED_DIR;
const GiB = 2 ** 30;

// ---------------------------------------------------------------------------
// GEMM peak

function matrixInfo(name: string, rows: number, cols: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimValue: rows }, { dimValue: cols }] },
      },
    },
  };
}

/** ONNX bytes of C = A·B with A (m×k), B (k×n), all float32 graph inputs. */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 9,
    producerName: 'g2studio-matmul-probe',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'matmul' }],
      input: [matrixInfo('a', m, k), matrixInfo('b', k, n)],
      output: [matrixInfo('c', m, n)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** float32 GEMM through ORT with the runtime's own session options: GFLOP/s, median of `runs` after a warm-up. */
export async function measureGemmGflops(size = 4096, runs = 3): Promise<number> {
  const session = await ort.InferenceSession.create(matmulModel(size, size, size), sessionOptions('cpu'));
  const a = new Float32Array(size * size).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
  const b = new Float32Array(size * size).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
  const feeds = {
    a: new ort.Tensor('float32', a, [size, size]),
    b: new ort.Tensor('float32', b, [size, size]),
  };
  await session.run(feeds);
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await session.run(feeds);
    seconds.push((performance.now() - start) / 1000);
  }
  await session.release();
  return (2 * size ** 3) / median(seconds) / 1e9;
}

// ---------------------------------------------------------------------------
// FLOPs of one reconstruction (multiply-add = 2 FLOP), from the dataflow of model doc §4-§7.

export function reconstructionFlops(
  config: G2vlmConfig,
  frames: number,
  patchRows: number,
  patchCols: number,
): {
  dino: number;
  llm: number;
  decoders: number;
  total: number;
} {
  const N = frames;
  const P = patchRows * patchCols;
  const { text, dino: d, decoders: g } = config;
  // DINO: packed 1+R+P rows per frame; attention windows of P rows (model doc §4).
  const dinoRows = N * (1 + d.numRegisters + P);
  const Dd = d.hiddenSize;
  const dino =
    2 * N * P * Dd * 3 * 14 * 14 +
    d.numLayers * (2 * dinoRows * Dd * (4 * Dd + 2 * d.mlpHiddenSize) + 4 * N * P * P * Dd) +
    2 * N * P * Dd * text.hiddenSize;
  // LLM: text phase (9 tokens) + the geometry block of N·(P+2) rows over all keys.
  const D = text.hiddenSize;
  const q = text.numHeads * text.headDim;
  const kv = text.numKvHeads * text.headDim;
  const layerFlops = (rows: number, keys: number): number =>
    2 * rows * D * (2 * q + 2 * kv) + 6 * rows * D * text.intermediateSize + 4 * rows * keys * q;
  const textRows = 9;
  const geoRows = N * (P + 2);
  const llm = text.numLayers * (layerFlops(textRows, textRows) + layerFlops(geoRows, textRows + geoRows));
  // Decoders: frames as the batch; 24·T·W² per block (qkv, proj, MLP 4W) + attention; global adds cross attention.
  const W = g.width;
  const T = N * P;
  const block = 24 * T * W * W + 4 * N * P * P * W;
  const cross = 8 * T * W * W + 4 * N * P * P * W;
  const decoders =
    g.depth * (3 * block + cross) +
    2 * T * W * (g.pointOutDim + g.globalOutDim + g.cameraOutDim) +
    2 * 2 * T * g.pointOutDim * g.pointHeadChannels +
    2 * T * g.cameraHeadDim * g.cameraHeadDim * 6;
  return { dino, llm, decoders, total: dino + llm + decoders };
}

// ---------------------------------------------------------------------------
// Reconstruction timings

/** Resets this process's peak-RSS mark (Linux), so a later VmHWM covers only what follows. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakRssBytes(pid: number | 'self' = 'self'): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ReconBench {
  seconds: number;
  stageSeconds: Record<string, number>;
  peakRssBytes: number | undefined;
  output: ReconstructionOutput;
}

export async function timeReconstruction(
  modelDir: string,
  frames: FrameInput[],
  runs: number,
): Promise<ReconBench> {
  const request = { modelDir, frames, executionProvider: 'cpu' as const };
  // Let the garbage of earlier work go before the peak-RSS mark is reset.
  (globalThis as { gc?: () => void }).gc?.();
  const rssReset = resetPeakRss();
  let output = await runReconstruction(request); // warm-up: loads the sessions
  const totals: number[] = [];
  const stages: Array<Record<string, number>> = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    output = await runReconstruction(request);
    totals.push((performance.now() - start) / 1000);
    stages.push(output.timingsMs);
  }
  const stageSeconds: Record<string, number> = {};
  for (const stage of Object.keys(stages[0] ?? {}))
    stageSeconds[stage] = median(stages.map((s) => s[stage] ?? 0)) / 1000;
  const peak = rssReset ? peakRssBytes() : process.resourceUsage().maxRSS * 1024;
  await releaseReconModels();
  return { seconds: median(totals), stageSeconds, peakRssBytes: peak, output };
}

export async function extractFrames(video: string, count: number, outDir: string): Promise<FrameInput[]> {
  const { ffmpegPath } = await locateFfmpeg();
  await fs.mkdir(outDir, { recursive: true });
  // dl3dv-walk has 20 distinct frames: every other one, the first `count`.
  const result = spawnSync(
    ffmpegPath,
    [
      '-v',
      'error',
      '-i',
      video,
      '-vf',
      "select='not(mod(n\\,2))'",
      '-vsync',
      'vfr',
      '-frames:v',
      String(count),
      join(outDir, 'frame_%02d.png'),
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg could not extract frames: ${result.stderr}`);
  const names = (await fs.readdir(outDir)).filter((n) => n.endsWith('.png')).sort();
  if (names.length !== count) throw new Error(`ffmpeg gave ${names.length} frames, expected ${count}`);
  return Promise.all(
    names.map(async (name) => ({ name, bytes: new Uint8Array(await fs.readFile(join(outDir, name))) })),
  );
}

// ---------------------------------------------------------------------------
// Conversion peak RSS (child process)

/** A checkpoint of ~2.6 GB in float32: medium, widened (LLM 1024 x 12 layers, vocab 32000). */
function largeConfigFiles(): CheckpointConfigFiles {
  const medium = RANDOM_CHECKPOINT_PRESETS.medium;
  return {
    textConfig: {
      ...medium.textConfig,
      hidden_size: 1024,
      num_attention_heads: 8,
      num_key_value_heads: 2,
      num_hidden_layers: 12,
      intermediate_size: 4096,
      vocab_size: 32000,
    },
    vitConfig: { ...medium.vitConfig, hidden_size: 1024 },
    dinoConfig: medium.dinoConfig,
    g2vlmJson: medium.g2vlmJson,
  };
}

/** Runs the converter in a child process and samples its peak RSS (VmHWM) until it exits. */
async function convertInChild(
  checkpointDir: string,
  outDir: string,
): Promise<{ peakRssBytes: number; seconds: number }> {
  const fromSources = __filename.endsWith('.ts');
  const args = fromSources
    ? [
        '--import',
        'tsx',
        '-e',
        `require(${JSON.stringify(join(__dirname, '../model/convert/convert-checkpoint.ts'))})` +
          `.convertCheckpoint(${JSON.stringify(checkpointDir)}, ${JSON.stringify(outDir)}, { dtype: 'fp32' })` +
          `.then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`,
      ]
    : [join(__dirname, 'cli.js'), 'model', 'convert', checkpointDir, '--out', outDir, '--json'];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: join(__dirname, '..', '..'),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, child.pid ? (peakRssBytes(child.pid) ?? 0) : 0);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`conversion failed (${code}): ${stderr.slice(-500)}`);
  return { peakRssBytes: peak, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------

const runsFromEnv = (): number => Math.max(1, Number(process.env.G2STUDIO_BENCH_RUNS ?? 3) || 3);

export async function runModelBench(): Promise<BenchSection> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const runs = runsFromEnv();
  const work = await fs.mkdtemp(join(tmpdir(), 'g2-model-bench-'));
  try {
    // The machine may be shared: measure the GEMM peak before and right after the
    // medium run and compare the run with the better of the two.
    const gemmBefore = await measureGemmGflops();

    // Medium: 8 frames of dl3dv-walk at 518x294 (first, so its peak RSS carries little from earlier work).
    const mediumCheckpoint = join(work, 'medium-checkpoint');
    await generateRandomCheckpoint(mediumCheckpoint, 'medium', { seed: 1, dtype: 'BF16' });
    const mediumModel = join(work, 'medium-model');
    await convertCheckpoint(mediumCheckpoint, mediumModel, { dtype: 'fp32' });
    const mediumFrames = await extractFrames(
      join(SHARED, 'samples', 'video', 'dl3dv-walk.mp4'),
      8,
      join(work, 'frames'),
    );
    const medium = await timeReconstruction(mediumModel, mediumFrames, runs);
    const gemmAfter = await measureGemmGflops();
    const gemm = Math.max(gemmBefore, gemmAfter);
    figures.push({
      label: 'float32 GEMM 4096³ through ONNX Runtime (best of before / after the medium run)',
      value: gemm,
      unit: 'GFLOP/s',
      baseline: {
        label: 'official PyTorch/MKL on the reference machine (published)',
        value: OFFICIAL.gemmGflops,
      },
      ratio: gemm / OFFICIAL.gemmGflops,
    });
    notes.push(
      `GEMM peak measured ${gemmBefore.toFixed(1)} GFLOP/s before and ${gemmAfter.toFixed(1)} GFLOP/s after the medium run (a large gap means the machine was shared).`,
    );
    const { width, height } = medium.output;
    const mediumConfig = (
      JSON.parse(await fs.readFile(join(mediumModel, 'manifest.json'), 'utf8')) as { configs: G2vlmConfig }
    ).configs;
    const flops = reconstructionFlops(mediumConfig, 8, height / 14, width / 14);
    const s = medium.stageSeconds;
    figures.push(
      {
        label: `medium recon, 8 frames at ${width}x${height} (ratio = ours / official)`,
        value: medium.seconds,
        unit: 's',
        baseline: { label: 'official PyTorch (published)', value: OFFICIAL.mediumReconSeconds },
        ratio: medium.seconds / OFFICIAL.mediumReconSeconds,
      },
      {
        label: 'medium recon: DINO',
        value: s.dino ?? NaN,
        unit: 's',
        baseline: { label: 'official', value: OFFICIAL.mediumDinoSeconds },
        ratio: (s.dino ?? NaN) / OFFICIAL.mediumDinoSeconds,
      },
      {
        label: 'medium recon: LLM geometry prefill',
        value: s['geometry-prefill'] ?? NaN,
        unit: 's',
        baseline: { label: 'official', value: OFFICIAL.mediumPrefillSeconds },
        ratio: (s['geometry-prefill'] ?? NaN) / OFFICIAL.mediumPrefillSeconds,
      },
      {
        label: 'medium recon: decoders + heads',
        value: (s.decoders ?? 0) + (s.heads ?? 0),
        unit: 's',
        baseline: { label: 'official', value: OFFICIAL.mediumDecodersSeconds },
        ratio: ((s.decoders ?? 0) + (s.heads ?? 0)) / OFFICIAL.mediumDecodersSeconds,
      },
      {
        label: 'medium recon: preprocess (decode + resize + normalise)',
        value: s.preprocess ?? NaN,
        unit: 's',
      },
      {
        label: 'medium recon: model FLOPs (analytic)',
        value: flops.total / 1e9,
        unit: 'GFLOP',
        baseline: { label: 'official count', value: OFFICIAL.mediumGflop },
        ratio: flops.total / 1e9 / OFFICIAL.mediumGflop,
      },
      {
        label: 'medium recon: achieved throughput (ratio = share of the ORT GEMM peak measured above)',
        value: flops.total / 1e9 / medium.seconds,
        unit: 'GFLOP/s',
        baseline: { label: 'ORT GEMM peak, this run', value: gemm },
        ratio: flops.total / 1e9 / medium.seconds / gemm,
      },
    );
    if (medium.peakRssBytes !== undefined) {
      figures.push({
        label: 'medium recon: peak RSS of the process (model load + runs)',
        value: medium.peakRssBytes / GiB,
        unit: 'GiB',
        baseline: { label: 'official PyTorch (published)', value: OFFICIAL.mediumPeakRssGiB },
        ratio: medium.peakRssBytes / GiB / OFFICIAL.mediumPeakRssGiB,
      });
    }
    const estimate = await estimateReconstructionMemory(mediumModel, 8, 960, 540, {
      availableBytes: Number.MAX_SAFE_INTEGER,
    });
    figures.push({
      label: 'medium recon: engine memory estimate (ratio = estimate / measured peak RSS)',
      value: estimate.peakBytes / GiB,
      unit: 'GiB',
      ...(medium.peakRssBytes !== undefined
        ? {
            baseline: { label: 'measured peak RSS, this run', value: medium.peakRssBytes / GiB },
            ratio: estimate.peakBytes / medium.peakRssBytes,
          }
        : {}),
    });
    await fs.rm(mediumCheckpoint, { recursive: true, force: true });
    await fs.rm(mediumModel, { recursive: true, force: true });

    // Golden tiny-a: 3 frames.
    const golden = join(SHARED, 'golden', 'g2vlm-tiny-a');
    const tinyModel = join(work, 'tiny-model');
    await convertCheckpoint(join(golden, 'checkpoint'), tinyModel, { dtype: 'fp32' });
    const tinyFrames = await Promise.all(
      ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'].map(async (name) => ({
        name,
        bytes: new Uint8Array(await fs.readFile(join(golden, 'inputs', 'images', name))),
      })),
    );
    const tiny = await timeReconstruction(tinyModel, tinyFrames, runs);
    figures.push({
      label: 'tiny-a recon, 3 frames (ratio = ours / official)',
      value: tiny.seconds,
      unit: 's',
      baseline: { label: 'official PyTorch (published)', value: OFFICIAL.tinyReconSeconds },
      ratio: tiny.seconds / OFFICIAL.tinyReconSeconds,
    });
    for (const [stage, seconds] of Object.entries(tiny.stageSeconds)) {
      figures.push({ label: `tiny-a recon stage: ${stage}`, value: seconds * 1000, unit: 'ms' });
    }

    // Conversion of a multi-GB float32 checkpoint: peak RSS of the converter process.
    const largeCheckpoint = join(work, 'large-checkpoint');
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const generateReset = resetPeakRss();
    const generateStart = performance.now();
    const generated = await generateRandomCheckpoint(largeCheckpoint, largeConfigFiles(), {
      seed: 2,
      dtype: 'F32',
    });
    const generateSeconds = (performance.now() - generateStart) / 1000;
    const generatePeak = generateReset ? peakRssBytes() : undefined;
    if (generatePeak !== undefined) {
      figures.push({
        label: 'generate-random: peak RSS growth while writing the float32 checkpoint (streamed)',
        value: Math.max(0, generatePeak - rssBefore) / 2 ** 20,
        unit: 'MiB',
      });
    }
    figures.push({ label: 'generate-random: wall time', value: generateSeconds, unit: 's' });
    const converted = await convertInChild(largeCheckpoint, join(work, 'large-model'));
    figures.push(
      { label: 'convert: float32 checkpoint size', value: generated.weightBytes / GiB, unit: 'GiB' },
      {
        label: 'convert: peak RSS of the converter process (ratio = share of the checkpoint size)',
        value: converted.peakRssBytes / GiB,
        unit: 'GiB',
        baseline: { label: 'checkpoint size', value: generated.weightBytes / GiB },
        ratio: converted.peakRssBytes / generated.weightBytes,
      },
      { label: 'convert: wall time', value: converted.seconds, unit: 's' },
    );
    notes.push(
      `Medians of ${runs} runs after a warm-up; ONNX Runtime CPU EP, ${sessionOptions('cpu').intraOpNumThreads} intra-op threads, float32.`,
      'Official figures: shared/bench/g2vlm-medium/README.md (PyTorch 2.13 + MKL, 2 threads, same class of 2-vCPU machine; not re-measured here).',
      'Achieved GFLOP/s uses an analytic FLOP count of the recon dataflow (multiply-add = 2), checked against the published 2034 GFLOP.',
    );
    if (!existsSync('/proc/self/clear_refs'))
      notes.push('Peak RSS includes everything the process did before (no /proc/self/clear_refs).');
    return { name: 'model', figures, notes };
  } finally {
    await releaseReconModels();
    await fs.rm(work, { recursive: true, force: true });
  }
}
