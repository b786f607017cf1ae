// ONNX Runtime sessions for converted graphs. CPU always; CUDA first when it
// was asked for and its provider loads (the session reports which one ran).
// ORT's telemetry is a Windows ETW provider only; on Linux/macOS the Node
// binding sends nothing and writes no cache (we still switch it off where the
// API allows). Threads: one per physical core (hyper-threads slow GEMMs down).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ort } from './ort';
import { StudioError } from '../../common/errors';

export type ExecutionProviderChoice = 'cpu' | 'cuda' | 'auto';

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
  /** The provider that actually runs the graph ('cpu' or 'cuda'). */
  executionProvider: string;
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
}

export function sessionOptions(
  ep: 'cpu' | 'cuda',
  tuning: SessionTuning = {},
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ep === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: physicalCores(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: tuning.arena ?? true,
    logSeverityLevel: 3,
    extra: {
      session: {
        // Busy-waiting worker threads stall whole parallel sections when the
        // machine is shared (2 cores, other processes): yield instead.
        intra_op: { allow_spinning: '0' },
        set_denormal_as_zero: '1',
        ...(tuning.sharedWeights ? { disable_prepacking: '1' } : {}),
      },
    },
  };
}

/** Creates a session from a model file (external weights are resolved beside it) or from bytes (no external data). */
export async function createSession(
  model: string | Uint8Array,
  ep: ExecutionProviderChoice = 'cpu',
  tuning: SessionTuning = {},
): Promise<LoadedSession> {
  const wantCuda = ep === 'cuda' || ep === 'auto';
  if (wantCuda) {
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions('cuda', tuning))
          : await ort.InferenceSession.create(model, sessionOptions('cuda', tuning));
      return { session, executionProvider: 'cuda' };
    } catch (error) {
      if (ep === 'cuda') {
        throw new StudioError(
          'internal',
          `The CUDA execution provider could not start: ${(error as Error).message}`,
          'Install the CUDA runtime (npm run install-cuda) or choose the CPU.',
        );
      }
    }
  }
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions('cpu', tuning))
      : await ort.InferenceSession.create(model, sessionOptions('cpu', tuning));
  return { session, executionProvider: 'cpu' };
}

export function floatTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function int64Tensor(values: ArrayLike<number>, dims: number[] = [values.length]): ort.Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new ort.Tensor('int64', data, dims);
}
