// Messages between the EngineClient (studio core, main thread) and the engine
// worker thread. Requests carry an id; the worker answers each with progress /
// token messages and exactly one result or error.

import type { StudioErrorInfo } from '../../common/errors';
import type {
  ChatOutput,
  ChatRequest,
  EngineProgress,
  ReconstructionOutput,
  ReconstructRequest,
} from './engine-types';

/** Module specifiers of the pipelines the worker runs (overridable for benchmarks and tests). */
export interface EnginePipelineModules {
  /** Exports `runReconstruction(req, { signal, onProgress })`. */
  recon?: string;
  /** Exports `runChat(req, { signal, onProgress, onToken })`. */
  chat?: string;
}

export interface EngineWorkerData {
  pipelines?: EnginePipelineModules;
  /** Shared Int32 count of ONNX Runtime runs in flight in the worker (native-run-counter.ts). */
  nativeRuns?: SharedArrayBuffer;
}

export type ClientToWorker =
  | { type: 'reconstruct'; id: number; request: ReconstructRequest }
  | { type: 'chat'; id: number; request: ChatRequest }
  | { type: 'cancel'; id: number }
  /** Answered when the worker's thread is free; a run in ONNX Runtime blocks it (see nativeRuns). */
  | { type: 'ping'; nonce: number };

export type WorkerToClient =
  | { type: 'ready' }
  | { type: 'pong'; nonce: number }
  | { type: 'progress'; id: number; progress: EngineProgress }
  | { type: 'token'; id: number; text: string }
  | { type: 'reconstruct-result'; id: number; output: ReconstructionOutput }
  | { type: 'chat-result'; id: number; output: ChatOutput }
  | { type: 'error'; id: number; error: StudioErrorInfo };

export type ReconstructionRunner = (
  request: ReconstructRequest,
  options: { signal: AbortSignal; onProgress: (p: EngineProgress) => void },
) => Promise<ReconstructionOutput>;

export type ChatRunner = (
  request: ChatRequest,
  options: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken: (text: string) => void },
) => Promise<ChatOutput>;

/** The distinct, transferable ArrayBuffers behind a set of typed arrays (each listed once). */
export function transferablesOf(values: unknown[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of values) {
    if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer && value.buffer.byteLength > 0) {
      buffers.add(value.buffer);
    }
  }
  return [...buffers];
}
