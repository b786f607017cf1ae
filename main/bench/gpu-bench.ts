// `npm run bench -- gpu`: the GPU providers against the CPU provider, in the
// same run, on this machine's GPU (issue #13). Per precision of a random
// checkpoint ("medium"; G2_BENCH_GPU_REAL=1 adds the real 2B-MoT size):
// - reconstruction of N frames, each provider in a fresh process
//   (gpu-bench-child.ts): the first run (sessions load, shaders compile), the
//   warm runs and their stages, the GPU output against the CPU output of the
//   same converted model (world points, camera poses), the provider that ran
//   and the nodes ONNX Runtime ran on the CPU;
// - one chat question (chat-probe-child.ts): prefill and decode ms/token, the
//   GPU teacher-forced on the CPU's inputs for top-1 agreement and logit
//   difference;
// - the GPU's memory: nvidia-smi's memory.used at its peak during each GPU
//   process, minus the reading before it, beside the engine's GPU estimate
//   (engine/gpu-memory-estimate.ts);
// and once: the fused attention ops' accuracy on this GPU (attention-probe.ts)
// and `g2studio --provider webgpu model verify-golden` on g2vlm-tiny-a.
// This file runs the steps; gpu-bench-figures.ts turns what they measured into figures.
//
// Without a GPU the section fails ("no GPU adapter: …"): it never reports CPU
// or software-renderer figures as GPU ones. G2_BENCH_GPU_ADAPTER=any accepts
// a software adapter (SwiftShader) in a quick mode (tiny preset, 2 frames,
// fp32, 4 decode steps) that checks the whole section end to end without a GPU.
//
// Knobs (environment):
//   G2_BENCH_GPU_PRECISIONS=fp32,fp16,int8,int4  G2_BENCH_GPU_FRAMES=4  G2_BENCH_GPU_RUNS=2 (warm runs)
//   G2_BENCH_GPU_PRESET=medium  G2_BENCH_GPU_REAL=1 (adds real-2b; G2_BENCH_REAL_2B=<checkpoint> reuses one)
//   G2_BENCH_GPU_CHAT_STEPS=16  G2_BENCH_GPU_CHAT_SIZE=768  G2_BENCH_GPU_PARTS=attention,golden,recon,chat
//   G2_BENCH_GPU_PROVIDERS=webgpu,cuda  G2_BENCH_GPU_GOLDEN=<golden folder>|off
//   G2_BENCH_GPU_FRAMES_DIR=<images> (instead of frames from the sample video, which need ffmpeg)
//   G2_BENCH_GPU_WORK=<folder, kept and reused>  G2_BENCH_GPU_BUDGET_S=<seconds; later steps are skipped>
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchChildArgs, failureTail, listFromEnv, runCli, runNode, type ProcessRun } from './bench-process';
import type { BenchFigure, BenchSection } from './bench-types';
import { CHAT_PROBE_IMAGES, ensureTestTokenizer, probeChatInChild } from './chat-probe';
import type {
  AttentionChildResult,
  GpuChildRequest,
  ReconChildRequest,
  ReconChildResult,
} from './gpu-bench-child';
import {
  attentionFigures,
  chatFigures,
  goldenFigures,
  providerBaselineFigure,
  readTensors,
  reconFigures,
  type ChatRun,
  type ReconRun,
} from './gpu-bench-figures';
import { nvidiaGpu, watchGpuMemory, type GpuMemoryPeak, type NvidiaGpu } from './gpu-monitor';
import { extractFrames } from './model-bench';
import { reconAccuracy, type ReconTensors } from './precision-accuracy';
import { SHARED_DIR } from './shared-dir';
import { RANDOM_CHECKPOINT_PRESETS } from '../model/checkpoint/random-checkpoint';
import type { RandomCheckpointPreset as Preset } from '../model/checkpoint/random-presets';
import { PRECISIONS, type Precision } from '../model/graph/precision';
import { float16ComputeFor } from '../model/runtime/float16-compute-form';
import {
  cudaProviderLibrary,
  gpuDescription,
  isSoftwareVulkanOnly,
  probeGpuProvider,
  webGpuAdapterIsHardware,
  type GpuProviderName,
  type GpuProviderProbe,
} from '../model/runtime/provider-probe';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const SECTION = 'gpu';

type Part = 'attention' | 'golden' | 'recon' | 'chat';
const PARTS: Part[] = ['attention', 'golden', 'recon', 'chat'];

interface Settings {
  /** G2_BENCH_GPU_ADAPTER=any: a software adapter is accepted, with the quick defaults. */
  quick: boolean;
  presets: Preset[];
  precisions: Precision[];
  frameCount: number;
  warmRuns: number;
  chatSteps: number;
  chatImageSize: number;
  parts: Set<Part>;
  providers: GpuProviderName[];
  golden: string | null;
  framesDir: string | null;
  work: string | null;
  budgetSeconds: number;
}

function numberFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** The env list's entries, each checked against the allowed values. */
function checkedList<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const isAllowed = (value: string): value is T => (allowed as readonly string[]).includes(value);
  return listFromEnv(name, [...fallback]).map((value) => {
    if (!isAllowed(value)) throw new Error(`${name}: ${value} is not one of ${allowed.join(', ')}`);
    return value;
  });
}

function settingsFromEnv(): Settings {
  const quick = process.env.G2_BENCH_GPU_ADAPTER === 'any';
  const presetNames = Object.keys(RANDOM_CHECKPOINT_PRESETS) as Preset[];
  const [preset] = checkedList('G2_BENCH_GPU_PRESET', presetNames, [quick ? 'tiny' : 'medium']);
  const precisions = checkedList('G2_BENCH_GPU_PRECISIONS', PRECISIONS, quick ? ['fp32'] : PRECISIONS);
  const parts = checkedList('G2_BENCH_GPU_PARTS', PARTS, PARTS);
  // SwiftShader takes minutes for the golden run (docs/webgpu.md): only when asked for in quick mode.
  const goldenEnv = process.env.G2_BENCH_GPU_GOLDEN;
  const golden =
    goldenEnv === 'off' ? null : (goldenEnv ?? (quick ? null : join(SHARED_DIR, 'golden', 'g2vlm-tiny-a')));
  return {
    quick,
    presets: process.env.G2_BENCH_GPU_REAL === '1' && preset !== 'real-2b' ? [preset, 'real-2b'] : [preset],
    precisions,
    frameCount: Math.max(2, Math.floor(numberFromEnv('G2_BENCH_GPU_FRAMES', quick ? 2 : 4))),
    warmRuns: Math.floor(numberFromEnv('G2_BENCH_GPU_RUNS', quick ? 1 : 2)),
    chatSteps: Math.max(2, Math.floor(numberFromEnv('G2_BENCH_GPU_CHAT_STEPS', quick ? 4 : 16))),
    chatImageSize: Math.floor(numberFromEnv('G2_BENCH_GPU_CHAT_SIZE', quick ? 240 : 768)),
    parts: new Set(parts),
    providers: checkedList<GpuProviderName>('G2_BENCH_GPU_PROVIDERS', ['webgpu', 'cuda'], ['webgpu', 'cuda']),
    golden: golden ? resolve(golden) : null,
    framesDir: process.env.G2_BENCH_GPU_FRAMES_DIR ? resolve(process.env.G2_BENCH_GPU_FRAMES_DIR) : null,
    work: process.env.G2_BENCH_GPU_WORK ? resolve(process.env.G2_BENCH_GPU_WORK) : null,
    budgetSeconds: numberFromEnv('G2_BENCH_GPU_BUDGET_S', Infinity),
  };
}

// ---------------------------------------------------------------------------
// The device

interface GpuDevice {
  /** The GPU providers measured against the CPU. */
  providers: GpuProviderName[];
  /** The WebGPU adapter is a software renderer (quick mode only). */
  software: boolean;
  webgpu: GpuProviderProbe;
  nvidia: NvidiaGpu | null;
  /** One line naming the device, for the notes. */
  description: string;
}

function vulkanDrivers(env: NodeJS.ProcessEnv): string {
  const files = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  return files ? `Vulkan drivers ${files}` : "the Vulkan loader's default drivers";
}

/**
 * The GPU providers that start here. Throws "no GPU adapter: …" where none
 * does, or where WebGPU's only adapter is a software renderer and quick mode
 * was not asked for.
 */
async function findDevice(settings: Settings): Promise<GpuDevice> {
  const env = process.env;
  const [webgpu, nvidia] = await Promise.all([probeGpuProvider('webgpu'), nvidiaGpu()]);
  const reasons: string[] = [];
  const providers: GpuProviderName[] = [];
  // ORT's device discovery reads PCI/DRM entries (DXCore on Windows), which a
  // VM may not show: an NVIDIA card that nvidia-smi sees, with no software-only
  // Vulkan loader setting, is a real adapter too (macOS: webGpuAdapterIsHardware).
  const hardware =
    webGpuAdapterIsHardware(webgpu, env) || (webgpu.starts && !isSoftwareVulkanOnly(env) && nvidia !== null);
  const software = webgpu.starts && !hardware;
  if (settings.providers.includes('webgpu')) {
    if (!webgpu.starts) reasons.push(`WebGPU did not start (${webgpu.error ?? 'no adapter'})`);
    else if (software && !settings.quick)
      reasons.push(
        `WebGPU's only adapter is a software renderer (${vulkanDrivers(env)}); G2_BENCH_GPU_ADAPTER=any measures it in quick mode`,
      );
    else providers.push('webgpu');
  }
  if (settings.providers.includes('cuda')) {
    const library = cudaProviderLibrary();
    if (!library || !existsSync(library)) reasons.push('CUDA is not installed (npm run install-cuda)');
    else {
      const cuda = await probeGpuProvider('cuda');
      if (cuda.starts) providers.push('cuda');
      else reasons.push(`CUDA did not start (${cuda.error ?? 'unknown error'})`);
    }
  }
  if (providers.length === 0) throw new Error(`no GPU adapter: ${reasons.join('; ')}.`);
  const adapter = webgpu.starts
    ? `WebGPU adapter: ${software ? 'a software renderer' : gpuDescription(webgpu)} (${vulkanDrivers(env)}; ` +
      `shader-f16 ${webgpu.shaderF16 === null ? 'not checked' : webgpu.shaderF16 ? 'yes' : 'no'}; ` +
      `max buffer ${webgpu.maxBufferSize ? `${(webgpu.maxBufferSize / GiB).toFixed(2)} GiB` : 'not read'})`
    : 'no WebGPU adapter';
  const card = nvidia
    ? `nvidia-smi: ${nvidia.name}, driver ${nvidia.driver}, ${(nvidia.memoryTotalMiB / 1024).toFixed(1)} GiB`
    : 'nvidia-smi: not present';
  const skipped = reasons.length > 0 ? ` Not measured: ${reasons.join('; ')}.` : '';
  return {
    providers,
    software,
    webgpu,
    nvidia,
    description: `Device: ${adapter}; ${card}; providers measured: ${providers.join(', ')} against the CPU.${skipped}`,
  };
}

// ---------------------------------------------------------------------------
// Steps, time budget and children

/** Stops starting new steps once the budget is spent, and caps each child at what is left. */
class Budget {
  private readonly deadline: number;
  readonly skipped: string[] = [];

  constructor(seconds: number) {
    this.deadline = performance.now() + seconds * 1000;
  }

  /** False (and the step listed as skipped) once the budget is spent. */
  allows(step: string): boolean {
    if (performance.now() < this.deadline) return true;
    this.skipped.push(step);
    return false;
  }

  /** A child's time limit: what is left of the budget, at least a minute. */
  childTimeoutMs(): number | undefined {
    const left = this.deadline - performance.now();
    return Number.isFinite(left) ? Math.max(60_000, left) : undefined;
  }
}

function progress(line: string): void {
  process.stdout.write(`  [gpu] ${line}\n`);
}

/** Runs one gpu-bench-child request, reading the GPU's memory meanwhile when it runs on a GPU. */
async function runChild<T>(
  request: GpuChildRequest,
  work: string,
  tag: string,
  onGpu: boolean,
  budget: Budget,
): Promise<{ run: ProcessRun; result: T; memory: GpuMemoryPeak | null }> {
  const requestPath = join(work, `${tag}.request.json`);
  const resultPath = join(work, `${tag}.result.json`);
  await fs.writeFile(requestPath, JSON.stringify(request));
  const watch = onGpu ? await watchGpuMemory() : null;
  let run: ProcessRun;
  let memory: GpuMemoryPeak | null;
  try {
    run = await runNode([...benchChildArgs('gpu-bench-child'), requestPath, resultPath], {
      timeoutMs: budget.childTimeoutMs(),
    });
  } finally {
    // Stopped as soon as the child is gone: the peak is the child's alone.
    memory = watch ? await watch.stop() : null;
  }
  if (run.code !== 0) throw new Error(`${tag} failed: ${failureTail(run)}`);
  return { run, result: JSON.parse(await fs.readFile(resultPath, 'utf8')) as T, memory };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---------------------------------------------------------------------------
// Reconstruction: the same converted model on the CPU and each GPU provider

async function reconstructOn(
  provider: 'cpu' | GpuProviderName,
  modelDir: string,
  frames: string[],
  settings: Settings,
  work: string,
  tag: string,
  budget: Budget,
): Promise<ReconRun> {
  const request: ReconChildRequest = {
    kind: 'recon',
    modelDir,
    frames,
    provider,
    warmRuns: settings.warmRuns,
    outDir: join(work, `${tag}-out`),
  };
  const { run, result, memory } = await runChild<ReconChildResult>(
    request,
    work,
    tag,
    provider !== 'cpu',
    budget,
  );
  const timings = result.warmTimingsMs.length > 0 ? result.warmTimingsMs : [result.firstTimingsMs];
  const stages: Record<string, number> = {};
  for (const stage of Object.keys(timings[0] ?? {}))
    stages[stage] = median(timings.map((t) => t[stage] ?? 0));
  const seconds = result.warmSeconds.length > 0 ? median(result.warmSeconds) : result.firstSeconds;
  progress(
    `${tag}: ran on ${result.executionProvider}, first ${result.firstSeconds.toFixed(2)} s, warm ${seconds.toFixed(2)} s` +
      (memory ? `, GPU memory +${memory.peakMiB - memory.idleMiB} MiB` : ''),
  );
  return { result, run, memory, seconds, stages };
}

// ---------------------------------------------------------------------------
// Chat: one question, the GPU teacher-forced on the CPU's inputs

async function chatOn(
  provider: 'cpu' | GpuProviderName,
  modelDir: string,
  settings: Settings,
  work: string,
  tag: string,
  budget: Budget,
  reference?: { stepInputs: number[] },
): Promise<ChatRun> {
  const watch = provider === 'cpu' ? null : await watchGpuMemory();
  let probe: Awaited<ReturnType<typeof probeChatInChild>>;
  let memory: GpuMemoryPeak | null;
  try {
    probe = await probeChatInChild(
      work,
      tag,
      {
        modelDir,
        images: [CHAT_PROBE_IMAGES[0]],
        visionImageSize: settings.chatImageSize,
        steps: settings.chatSteps,
        provider,
        ...(reference ? { forcedInputs: reference.stepInputs } : {}),
      },
      { timeoutMs: budget.childTimeoutMs() },
    );
  } finally {
    memory = watch ? await watch.stop() : null;
  }
  const { run, result, logits } = probe;
  progress(
    `${tag}: ran on ${result.executionProvider}, prefill ${(result.prefixPrefillMs / 1000).toFixed(2)} s, decode ${result.decodeMsPerToken.toFixed(1)} ms/token`,
  );
  return { result, logits, run, memory };
}

// ---------------------------------------------------------------------------
// Golden parity and attention accuracy

// ---------------------------------------------------------------------------

/** The reconstruction's frames: image files, from G2_BENCH_GPU_FRAMES_DIR or the sample video. */
async function frameFiles(settings: Settings, work: string): Promise<string[]> {
  if (settings.framesDir) {
    const names = (await fs.readdir(settings.framesDir)).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
    if (names.length < settings.frameCount)
      throw new Error(
        `${settings.framesDir} holds ${names.length} images; ${settings.frameCount} are needed`,
      );
    return names.slice(0, settings.frameCount).map((n) => join(settings.framesDir!, n));
  }
  const dir = join(work, 'frames');
  const frames = await extractFrames(
    join(SHARED_DIR, 'samples/video/dl3dv-walk.mp4'),
    settings.frameCount,
    dir,
  );
  return frames.map((f) => join(dir, f.name));
}

/** A random checkpoint of the preset (G2_BENCH_REAL_2B's for real-2b where set), generated once. */
async function checkpointOf(preset: Preset, work: string, budget: Budget): Promise<string> {
  const given = process.env.G2_BENCH_REAL_2B;
  if (preset === 'real-2b' && given && existsSync(join(given, 'model.safetensors'))) return given;
  const dir = join(work, `${preset}-checkpoint`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  const run = await runCli(['model', 'generate-random', dir, '--preset', preset, '--seed', '1'], {
    timeoutMs: budget.childTimeoutMs(),
  });
  if (run.code !== 0) throw new Error(`generate-random ${preset} failed: ${failureTail(run)}`);
  progress(`generated the ${preset} checkpoint in ${run.seconds.toFixed(1)} s`);
  return dir;
}

async function convertedModel(
  checkpoint: string,
  preset: Preset,
  precision: Precision,
  work: string,
  budget: Budget,
): Promise<string> {
  const dir = join(work, `${preset}-${precision}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const run = await runCli(['model', 'convert', checkpoint, '--out', dir, '--precision', precision], {
    timeoutMs: budget.childTimeoutMs(),
  });
  if (run.code !== 0) throw new Error(`convert ${preset} to ${precision} failed: ${failureTail(run)}`);
  progress(`converted ${preset} to ${precision} in ${run.seconds.toFixed(1)} s`);
  return dir;
}

/** One run of the section: what it measures with, and the figures and notes so far. */
class GpuBenchRun {
  readonly figures: BenchFigure[] = [];
  readonly notes: string[];
  /** Each GPU provider's own memory (attention probe process), for the activation factor. */
  private readonly providerBaseline = new Map<GpuProviderName, number>();

  constructor(
    private readonly settings: Settings,
    private readonly device: GpuDevice,
    private readonly budget: Budget,
    private readonly work: string,
  ) {
    this.notes = [device.description];
  }

  /** A step that failed: noted, and the run goes on with the next. */
  failed(step: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.notes.push(`${step} FAILED: ${message}`);
    progress(`${step} FAILED: ${message}`);
  }

  /**
   * Per GPU provider, in a process of its own: the attention cases, and its GPU
   * memory as the provider's baseline (device, context, shader caches) with
   * nothing but small probe graphs.
   */
  async attention(): Promise<void> {
    for (const provider of this.device.providers) {
      if (!this.budget.allows(`attention probe on ${provider}`)) continue;
      try {
        const { result, memory } = await runChild<AttentionChildResult>(
          { kind: 'attention', providers: ['cpu', provider] },
          this.work,
          `attention-${provider}`,
          true,
          this.budget,
        );
        this.figures.push(...attentionFigures(result.rows, provider));
        if (memory && memory.samples > 0) {
          const bytes = (memory.peakMiB - memory.idleMiB) * MiB;
          this.providerBaseline.set(provider, bytes);
          this.figures.push(providerBaselineFigure(provider, bytes));
        }
        progress(`attention probe on ${provider}: ${result.rows.length} cases`);
      } catch (error) {
        this.failed(`attention probe on ${provider}`, error);
      }
    }
  }

  async golden(): Promise<void> {
    const golden = this.settings.golden;
    if (!golden || !existsSync(join(golden, 'manifest.json'))) {
      this.notes.push(
        `verify-golden skipped: ${golden ? `no golden set at ${golden}` : 'not asked for (G2_BENCH_GPU_GOLDEN)'}.`,
      );
      return;
    }
    for (const provider of this.device.providers) {
      if (!this.budget.allows(`verify-golden on ${provider}`)) continue;
      try {
        const run = await runCli(['--json', '--provider', provider, 'model', 'verify-golden', golden], {
          timeoutMs: this.budget.childTimeoutMs(),
        });
        const measured = goldenFigures(provider, run.stdout, run.seconds);
        if (!measured) throw new Error(failureTail(run));
        this.figures.push(...measured.figures);
        this.notes.push(...measured.notes);
        progress(measured.line);
      } catch (error) {
        this.failed(`verify-golden on ${provider}`, error);
      }
    }
  }

  /** Every precision of a preset: converted once, reconstructed and asked on the CPU and each GPU provider. */
  async preset(preset: Preset, frames: string[]): Promise<void> {
    if (!this.budget.allows(`${preset} checkpoint`)) return;
    const checkpoint = await checkpointOf(preset, this.work, this.budget);
    /** CPU outputs of the first precision, to set each precision's GPU error beside its quantisation error. */
    let firstCpu: { precision: Precision; tensors: ReconTensors } | undefined;
    for (const precision of this.settings.precisions) {
      const step = `${preset} ${precision}`;
      if (!this.budget.allows(step)) continue;
      // fp16 runs on WebGPU only where the adapter has f16 shaders (README: SwiftShader has none).
      const providers = this.device.providers.filter(
        (p) => !(p === 'webgpu' && precision === 'fp16' && this.device.webgpu.shaderF16 === false),
      );
      if (providers.length < this.device.providers.length)
        this.notes.push(`${step} on webgpu skipped: the adapter has no shader-f16.`);
      if (providers.length === 0) continue;
      let modelDir: string;
      try {
        modelDir = await convertedModel(checkpoint, preset, precision, this.work, this.budget);
      } catch (error) {
        this.failed(step, error);
        continue;
      }
      if (this.settings.parts.has('recon') && this.budget.allows(`${step} reconstruction`)) {
        try {
          const cpuTensors = await this.reconstruction(
            preset,
            precision,
            modelDir,
            providers,
            frames,
            firstCpu,
          );
          firstCpu ??= { precision, tensors: cpuTensors };
        } catch (error) {
          this.failed(`${step} reconstruction`, error);
        }
      }
      if (this.settings.parts.has('chat') && this.budget.allows(`${step} chat`)) {
        try {
          await this.chat(preset, precision, modelDir, providers);
        } catch (error) {
          this.failed(`${step} chat`, error);
        }
      }
    }
  }

  /** The CPU's reconstruction, then each GPU provider's against it; returns the CPU's output. */
  private async reconstruction(
    preset: Preset,
    precision: Precision,
    modelDir: string,
    providers: GpuProviderName[],
    frames: string[],
    firstCpu: { precision: Precision; tensors: ReconTensors } | undefined,
  ): Promise<ReconTensors> {
    const tag = `${preset}-${precision}-recon`;
    const run = (provider: 'cpu' | GpuProviderName) =>
      reconstructOn(provider, modelDir, frames, this.settings, this.work, `${tag}-${provider}`, this.budget);
    const cpu = await run('cpu');
    const cpuTensors = await readTensors(cpu.result.files, cpu.result.frameCount);
    const quantisation =
      firstCpu && firstCpu.precision !== precision
        ? { p99: reconAccuracy(cpuTensors, firstCpu.tensors).worldRelP99, against: firstCpu.precision }
        : null;
    for (const provider of providers) {
      if (!this.budget.allows(`${preset} ${precision} reconstruction on ${provider}`)) continue;
      try {
        const measured = await reconFigures(
          `${preset} ${precision}, ${frames.length} frames, ${provider}`,
          provider,
          await run(provider),
          cpu,
          modelDir,
          quantisation,
          this.providerBaseline.get(provider) ?? null,
          float16ComputeFor(provider, this.device.webgpu.shaderF16),
        );
        this.figures.push(...measured.figures);
        this.notes.push(...measured.notes);
      } catch (error) {
        this.failed(`${preset} ${precision} reconstruction on ${provider}`, error);
      }
    }
    return cpuTensors;
  }

  /** One question on the CPU, then on each GPU provider teacher-forced on the CPU's inputs. */
  private async chat(
    preset: Preset,
    precision: Precision,
    modelDir: string,
    providers: GpuProviderName[],
  ): Promise<void> {
    ensureTestTokenizer(modelDir);
    const tag = `${preset}-${precision}`;
    const cpu = await chatOn('cpu', modelDir, this.settings, this.work, `${tag}-cpu`, this.budget);
    for (const provider of providers) {
      if (!this.budget.allows(`${preset} ${precision} chat on ${provider}`)) continue;
      try {
        const gpu = await chatOn(
          provider,
          modelDir,
          this.settings,
          this.work,
          `${tag}-${provider}`,
          this.budget,
          cpu.result,
        );
        const measured = await chatFigures(
          `${preset} ${precision} chat, 1 image at ${this.settings.chatImageSize} px, ${provider}`,
          provider,
          gpu,
          cpu,
          modelDir,
          this.providerBaseline.get(provider) ?? null,
          float16ComputeFor(provider, this.device.webgpu.shaderF16),
        );
        this.figures.push(...measured.figures);
        this.notes.push(...measured.notes);
      } catch (error) {
        this.failed(`${preset} ${precision} chat on ${provider}`, error);
      }
    }
  }
}

export async function runGpuBench(): Promise<BenchSection> {
  const settings = settingsFromEnv();
  const device = await findDevice(settings);
  const budget = new Budget(settings.budgetSeconds);
  const started = performance.now();
  const work = settings.work ?? (await fs.mkdtemp(join(tmpdir(), 'g2-gpu-bench-')));
  await fs.mkdir(work, { recursive: true });
  const run = new GpuBenchRun(settings, device, budget, work);
  progress(device.description);
  if (device.software)
    run.notes.push(
      'QUICK MODE on a software adapter (G2_BENCH_GPU_ADAPTER=any): these figures check the benchmark, they are not GPU figures. The standard graphs run there, attention on the CPU (G2STUDIO_WEBGPU_FORMS_ON_SOFTWARE=1 loads the WebGPU forms).',
    );
  else if (settings.quick)
    run.notes.push(
      'Quick mode (G2_BENCH_GPU_ADAPTER=any): the small defaults, not the figures #13 asks for.',
    );
  try {
    if (settings.parts.has('attention')) await run.attention();
    if (settings.parts.has('golden')) await run.golden();
    if (settings.parts.has('recon') || settings.parts.has('chat')) {
      const frames = settings.parts.has('recon') ? await frameFiles(settings, work) : [];
      for (const preset of settings.presets) await run.preset(preset, frames);
    }
  } finally {
    if (!settings.work) await fs.rm(work, { recursive: true, force: true });
  }
  if (budget.skipped.length > 0)
    run.notes.push(
      `Not run, out of time (G2_BENCH_GPU_BUDGET_S=${settings.budgetSeconds}): ${budget.skipped.join('; ')}.`,
    );
  run.notes.push(
    `Settings: parts ${[...settings.parts].join(', ')}; presets ${settings.presets.join(', ')}; precisions ${settings.precisions.join(', ')}; ${settings.frameCount} frames; ` +
      `${settings.warmRuns} warm run${settings.warmRuns === 1 ? '' : 's'} after the first (median); chat ${settings.chatSteps} decode steps at ${settings.chatImageSize} px. ` +
      `Each provider's run is a fresh process; the GPU's output is compared with the CPU's output of the same converted model. ` +
      `Whole section ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  return { name: gpuSectionName(device.software, settings), figures: run.figures, notes: run.notes };
}

/**
 * The section's name in BENCHMARKS.md. A quick run, or one of some parts only
 * (the device kit's second call runs the golden part alone), is named apart, so
 * that it never replaces the whole section's real GPU figures.
 */
export function gpuSectionName(software: boolean, settings: Pick<Settings, 'quick' | 'parts'>): string {
  const labels = [
    ...(software ? ['software adapter, quick mode'] : settings.quick ? ['quick mode'] : []),
    ...(settings.parts.size < PARTS.length ? [`${[...settings.parts].join(', ')} only`] : []),
  ];
  return labels.length > 0 ? `${SECTION} (${labels.join('; ')})` : SECTION;
}
