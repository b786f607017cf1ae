// ONNX Runtime sessions for converted graphs. CPU always; CUDA or WebGPU when
// asked for, or when `auto` picked one (provider-probe.ts). Each session
// reports the provider it really runs on; a GPU session that cannot start
// under `auto` falls back to the CPU and says why (fallbackReason).
// ORT's telemetry is a Windows ETW provider only; on Linux/macOS the Node
// binding sends nothing and writes no cache (we still switch it off where the
// API allows). Threads: one per physical core (hyper-threads slow GEMMs down).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ort } from './ort';
import { autoProvider } from './provider-probe';
import { placementProfiling } from './node-placement';
import { float16ComputeForm, float16ComputeOn, float16OverflowNote } from './float16-compute-form';
import { graphPath, type GraphId, type ModelManifest } from './model-manifest';
import { StudioError } from '../../common/errors';

export type ExecutionProviderChoice = 'cpu' | 'cuda' | 'webgpu' | 'auto';
/** A provider a session runs on. */
export type SessionProvider = 'cpu' | 'cuda' | 'webgpu';

let physicalCoresCache: number | undefined;

/** Physical core count (Linux: distinct (physical id, core id) pairs), falling back to logical CPUs. */
export function physicalCores(): number {
  if (physicalCoresCache !== undefined) return physicalCoresCache;
  let count: number;
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let physical = '0';
    for (const line of info.split('\n')) {
      const [key, value] = line.split(':').map((s) => s?.trim());
      if (key === 'physical id') physical = value;
      if (key === 'core id') cores.add(`${physical}:${value}`);
    }
    count = cores.size;
  } catch {
    count = 0;
  }
  physicalCoresCache = Math.max(1, count || os.availableParallelism());
  return physicalCoresCache;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  /** The provider that actually runs the graph. */
  executionProvider: SessionProvider;
  /**
   * Set when the session runs other than asked, and why: a GPU session failed
   * and this one runs on the CPU, or an fp16 graph's fp16-compute form could
   * not be used and it computes in float32 on the GPU.
   */
  fallbackReason?: string;
  /** 'float16' when the session runs the graph's fp16-compute form (float16-compute-form.ts). */
  compute?: 'float16';
}

/**
 * The provider a set of sessions runs on, as runs record it: one name when
 * they agree, else e.g. "webgpu+cpu" (a model is never reported under the
 * GPU's name when part of it fell back).
 */
export function combinedProvider(sessions: Array<{ executionProvider: string }>): string {
  const names = [...new Set(sessions.flatMap((s) => s.executionProvider.split('+')))];
  return names.join('+');
}

/** The fallback reasons of a set of sessions (empty when every one runs where it was asked to). */
export function fallbackReasons(sessions: Array<{ fallbackReason?: string }>): string[] {
  return [...new Set(sessions.flatMap((s) => (s.fallbackReason ? [s.fallbackReason] : [])))];
}

export interface SessionTuning {
  /**
   * Keep MatMul weights in the mapped external-data file instead of prepacked
   * anonymous copies (onnx-runtime-notes §7): several sessions over the same
   * weights (causal / non-causal LLM) then share one copy, for ~2% speed.
   */
  sharedWeights?: boolean;
  /**
   * ORT's CPU arena keeps a session's peak activation memory for its whole
   * life, per session. Off for the graphs with large activations (DINO,
   * non-causal LLM, decoders): the medium recon peaks at 2.2 GB instead of
   * 5.4 GB, for ~15% more system time (fresh pages each run).
   */
  arena?: boolean;
  /**
   * The graph's weights are float16 behind a Cast to float32. On the CPU, ORT
   * folds each such Cast at load into a private float32 copy per session
   * (ConstantFolding and FuseFp16InitializerToFp32NodeTransformer), so two
   * sessions over the same fp16 weights held twice the float32 model. With
   * this set the Casts run per run instead: the sessions share the mapped
   * fp16 file and only one layer's float32 weights exist at a time, for the
   * time of the casts (measured in docs/precisions.md). No effect on GPUs.
   */
  castWeightsPerRun?: boolean;
  /**
   * Outputs that stay in GPU memory on the WebGPU provider (ORT's
   * preferredOutputLocation 'gpu-buffer'): the caller feeds them to the next
   * run without a round trip over the bus and disposes them. Ignored on the
   * CPU. The Node binding cannot read such a tensor back (getData aborts the
   * process in 1.30), so only outputs that are fed back belong here.
   */
  deviceOutputs?: readonly string[];
}

/** ORT's optimizers that turn fp16 weights behind a Cast into float32 copies at load. */
const FP16_WEIGHT_FOLDING = 'ConstantFolding;FuseFp16InitializerToFp32NodeTransformer';

export function sessionOptions(
  ep: SessionProvider,
  tuning: SessionTuning = {},
): ort.InferenceSession.SessionOptions {
  return {
    // A GPU provider with the CPU after it: ops the GPU provider lacks run on the CPU.
    executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: physicalCores(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: tuning.arena ?? true,
    ...(ep === 'webgpu' && tuning.deviceOutputs?.length
      ? {
          preferredOutputLocation: Object.fromEntries(
            tuning.deviceOutputs.map((name) => [name, 'gpu-buffer' as const]),
          ),
        }
      : {}),
    logSeverityLevel: 3,
    extra: {
      session: {
        // Busy-waiting worker threads stall whole parallel sections when the
        // machine is shared (2 cores, other processes): yield instead.
        intra_op: { allow_spinning: '0' },
        set_denormal_as_zero: '1',
        ...(tuning.sharedWeights ? { disable_prepacking: '1' } : {}),
      },
      // Config keys are the nested path: "optimization.disable_specified_optimizers".
      ...(tuning.castWeightsPerRun && ep === 'cpu'
        ? { optimization: { disable_specified_optimizers: FP16_WEIGHT_FOLDING } }
        : {}),
    },
  };
}

const PROVIDER_LABEL: Record<SessionProvider, string> = { cpu: 'CPU', cuda: 'CUDA', webgpu: 'WebGPU' };

const PROVIDER_FIX: Record<'cuda' | 'webgpu', string> = {
  cuda: 'Install the CUDA provider (npm run install-cuda) and an NVIDIA driver with CUDA 12, or choose --provider auto or cpu. `g2studio info` says what is missing.',
  webgpu:
    'Update the GPU driver (Vulkan on Linux, Direct3D 12 on Windows, Metal on macOS), or choose --provider auto or cpu. `g2studio info` says what was found.',
};

async function createOn(
  model: string | Uint8Array,
  ep: SessionProvider,
  tuning: SessionTuning,
): Promise<ort.InferenceSession> {
  // GPU sessions profile their first run to learn which nodes ran on the CPU (node-placement.ts).
  const profiling = placementProfiling(model, ep);
  const options = { ...sessionOptions(ep, tuning), ...profiling?.options };
  try {
    const session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
    profiling?.attach(session);
    return session;
  } catch (error) {
    profiling?.discard();
    throw error;
  }
}

/**
 * Creates a session on `target`. A GPU target that fails throws a StudioError,
 * or with `fallbackToCpu` returns a CPU session that carries the reason.
 */
export async function createSessionOn(
  model: string | Uint8Array,
  target: SessionProvider,
  tuning: SessionTuning = {},
  fallbackToCpu = false,
  /** What the CPU session loads when it replaces a failed GPU one (the standard graph); default `model`. */
  cpuModel: string | Uint8Array = model,
): Promise<LoadedSession> {
  // An fp16 graph on an adapter with f16 shaders: its fp16-compute form first, the graph itself if that fails.
  let float32Reason: string | undefined;
  if (typeof model === 'string' && (await float16ComputeOn(target))) {
    // A folder whose fp16 compute overflowed earlier in this process stays in float32.
    const overflowed = float16OverflowNote(model);
    const form = overflowed ? { note: overflowed, path: undefined } : float16ComputeForm(model);
    float32Reason = form.note;
    if (form.path) {
      try {
        return {
          session: await createOn(form.path, target, tuning),
          executionProvider: target,
          compute: 'float16',
        };
      } catch (error) {
        const message = (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 300);
        float32Reason = `${form.path.split(/[\\/]/).pop()} could not start (${message}); its graph computes in float32 on the ${PROVIDER_LABEL[target]} provider instead.`;
      }
    }
  }
  const asked = (loaded: LoadedSession): LoadedSession =>
    float32Reason && !loaded.fallbackReason ? { ...loaded, fallbackReason: float32Reason } : loaded;
  if (target === 'cpu')
    return asked({ session: await createOn(model, 'cpu', tuning), executionProvider: 'cpu' });
  try {
    return asked({ session: await createOn(model, target, tuning), executionProvider: target });
  } catch (error) {
    const message = (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 400);
    const graph = typeof model === 'string' ? model.split(/[\\/]/).pop() : 'an in-memory graph';
    if (!fallbackToCpu) {
      throw new StudioError(
        'internal',
        `The ${PROVIDER_LABEL[target]} execution provider could not start ${graph}: ${message}`,
        PROVIDER_FIX[target],
        { cause: error },
      );
    }
    const session = await createOn(cpuModel, 'cpu', tuning);
    return {
      session,
      executionProvider: 'cpu',
      fallbackReason: `${graph} runs on the CPU: its ${PROVIDER_LABEL[target]} session failed (${message}).`,
    };
  }
}

/**
 * Creates a session from a model file (external weights are resolved beside it)
 * or from bytes (no external data). `auto` resolves to the provider the probe
 * picked once for this process and falls back to the CPU, visibly, if a
 * session on it fails; an explicit GPU choice that fails is an error.
 */
export async function createSession(
  model: string | Uint8Array,
  ep: ExecutionProviderChoice = 'cpu',
  tuning: SessionTuning = {},
): Promise<LoadedSession> {
  const target = ep === 'auto' ? (await autoProvider()).provider : ep;
  return createSessionOn(model, target, tuning, ep === 'auto');
}

/**
 * A session for one graph of a converted model folder, on the provider `ep`
 * resolves to, loading the graph file made for that provider (graphPath: the
 * WebGPU variant under WebGPU); a CPU fallback loads the standard graph.
 */
export async function createGraphSession(
  modelDir: string,
  manifest: ModelManifest,
  id: GraphId,
  ep: ExecutionProviderChoice = 'cpu',
  tuning: SessionTuning = {},
): Promise<LoadedSession> {
  const target = ep === 'auto' ? (await autoProvider()).provider : ep;
  return createSessionOn(
    graphPath(modelDir, manifest, id, target),
    target,
    tuning,
    ep === 'auto',
    graphPath(modelDir, manifest, id, 'cpu'),
  );
}

export function floatTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function int64Tensor(values: ArrayLike<number>, dims: number[] = [values.length]): ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor('int64', data, dims);
}
