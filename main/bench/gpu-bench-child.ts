// Child process of the GPU benchmark (gpu-bench.ts): one provider's
// reconstruction, or the attention probe, in a fresh process, so that its
// provider starts from nothing (device, shader caches), its peak RSS is its
// own, and the parent can read the GPU's memory while only it runs.
//   node out/main/gpu-bench-child.js <request.json> <result.json>
// A reconstruction runs once cold (sessions load, shaders compile) and then
// `warmRuns` times on the loaded sessions; its output tensors are written as
// float32 files for the parent's CPU-vs-GPU comparison.
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { probeAttention, type AttentionProbeRow } from './attention-probe';
import type { FrameInput, ReconstructionOutput } from '../model/engine/engine-types';
import { releaseReconModels, runReconstruction } from '../model/runtime/recon-pipeline';
import type { SessionProvider } from '../model/runtime/session';

export interface ReconChildRequest {
  kind: 'recon';
  modelDir: string;
  /** Image files, in the order the model sees them. */
  frames: string[];
  provider: SessionProvider;
  /** Runs after the first (cold) one; 0 keeps only the first. */
  warmRuns: number;
  /** Where the output tensors go (world points, local points, poses as float32). */
  outDir: string;
}

export interface AttentionChildRequest {
  kind: 'attention';
  providers: SessionProvider[];
}

export type GpuChildRequest = ReconChildRequest | AttentionChildRequest;

/** The float32 files of a reconstruction's output. */
export interface ReconTensorFiles {
  worldPoints: string;
  localPoints: string;
  worldFromCamera: string;
}

export interface ReconChildResult {
  kind: 'recon';
  executionProvider: string;
  providerNotes: string[];
  cpuNodes: Record<string, number>;
  cpuNodeOps: Record<string, Record<string, number>>;
  precision: string;
  frameCount: number;
  width: number;
  height: number;
  /** The first run: sessions load (an fp16 model's float32 form is written on the CPU), shaders compile. */
  firstSeconds: number;
  firstTimingsMs: Record<string, number>;
  /** Each warm run's wall time and per-stage times (the engine's timingsMs). */
  warmSeconds: number[];
  warmTimingsMs: Array<Record<string, number>>;
  files: ReconTensorFiles;
}

export interface AttentionChildResult {
  kind: 'attention';
  rows: AttentionProbeRow[];
}

async function writeFloats(path: string, data: Float32Array): Promise<string> {
  await fs.writeFile(path, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return path;
}

async function reconstruct(request: ReconChildRequest): Promise<ReconChildResult> {
  const frames: FrameInput[] = await Promise.all(
    request.frames.map(async (file) => ({
      name: basename(file),
      bytes: new Uint8Array(await fs.readFile(file)),
    })),
  );
  const run = async (): Promise<{ seconds: number; output: ReconstructionOutput }> => {
    const started = performance.now();
    const output = await runReconstruction({
      modelDir: request.modelDir,
      frames,
      executionProvider: request.provider,
    });
    return { seconds: (performance.now() - started) / 1000, output };
  };
  const first = await run();
  let last = first;
  const warmSeconds: number[] = [];
  const warmTimingsMs: Array<Record<string, number>> = [];
  for (let i = 0; i < request.warmRuns; i++) {
    last = await run();
    warmSeconds.push(last.seconds);
    warmTimingsMs.push(last.output.timingsMs);
  }
  await releaseReconModels();
  const out = last.output;
  await fs.mkdir(request.outDir, { recursive: true });
  return {
    kind: 'recon',
    executionProvider: out.executionProvider,
    providerNotes: out.providerNotes ?? [],
    cpuNodes: out.cpuNodes ?? {},
    cpuNodeOps: out.cpuNodeOps ?? {},
    precision: out.precision,
    frameCount: out.frameCount,
    width: out.width,
    height: out.height,
    firstSeconds: first.seconds,
    firstTimingsMs: first.output.timingsMs,
    warmSeconds,
    warmTimingsMs,
    files: {
      worldPoints: await writeFloats(join(request.outDir, 'world-points.f32'), out.worldPoints),
      localPoints: await writeFloats(join(request.outDir, 'local-points.f32'), out.localPoints),
      worldFromCamera: await writeFloats(join(request.outDir, 'world-from-camera.f32'), out.worldFromCamera),
    },
  };
}

async function main(): Promise<void> {
  const [requestPath, resultPath] = process.argv.slice(2);
  const request = JSON.parse(await fs.readFile(requestPath, 'utf8')) as GpuChildRequest;
  let result: ReconChildResult | AttentionChildResult;
  if (request.kind === 'recon') {
    result = await reconstruct(request);
  } else {
    const rows: AttentionProbeRow[] = [];
    for (const provider of request.providers) rows.push(...(await probeAttention(provider)));
    result = { kind: 'attention', rows };
  }
  await fs.writeFile(resultPath, JSON.stringify(result));
}

main().then(
  // Exit explicitly: a provider thread left running must not keep the child (and the bench) waiting.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
