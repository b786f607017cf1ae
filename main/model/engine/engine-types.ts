// The contract between the studio core and the model engine (which runs in a
// worker thread: main/model/engine/engine-worker.ts). Arrays are transferred,
// not copied. Coordinates: OpenCV camera axes (x right, y down, z forward).

import type { StageEstimate } from '../../common/job-stages';
import type { Marker } from '../chat/markers';

export interface EngineProgress {
  /** 0..1 over the whole request. */
  progress: number;
  /** 'preprocess' | 'dino' | 'geometry-prefill' | 'decoders' | 'heads' | 'vision' | 'prefill' | 'decode' | … */
  stage: string;
  /** Seconds the rest of the request is expected to take; null when not promised (see `estimate`). */
  secondsLeft?: number | null;
  /** Where that comes from (main/common/job-stages.ts); absent when the pipeline gives no estimate. */
  estimate?: StageEstimate;
  /**
   * Sent by the pipeline when a stage with an expected duration begins or
   * steps. An ONNX Runtime run blocks the worker's thread (onnxruntime-node
   * runs synchronously), so the engine client, whose thread is free, moves
   * the bar by it between the pipeline's events (engine/progress-heartbeat.ts).
   */
  timedStage?: TimedStage;
}

export interface TimedStage {
  /** The stage's span of the request's bar. */
  from: number;
  to: number;
  /** Real progress inside the stage so far, 0..1. */
  done: number;
  /** How long the stage has run when this was sent, and how long it is expected to run. */
  elapsedMs: number;
  expectedMs: number;
  /** Expected milliseconds of the timed stages after this one. */
  laterMs: number;
  /** 'measured' only when this stage and every later one have measured rates. */
  estimate: Exclude<StageEstimate, 'overdue'>;
}

/**
 * A stage's measured speed on one machine: milliseconds per GFLOP of the
 * stage's estimated work (runtime/stage-work.ts), so a rate measured with 4
 * frames predicts a run with 12. The studio keeps these per model and
 * provider and hands them back with each request.
 */
export interface StageRate {
  /** The provider the stage really ran on ("cpu", "cuda", "webgpu", "webgpu+cpu"). */
  provider: string;
  stage: string;
  msPerGflop: number;
}

/** What one stage of a finished request cost: its estimated work and its measured time. */
export interface StageMeasurement {
  stage: string;
  gflop: number;
  ms: number;
}

export interface FrameInput {
  /** Encoded image (JPEG/PNG) as stored in the library, in display orientation. */
  bytes: Uint8Array;
  /** For messages only. */
  name: string;
  /**
   * Chat only: markers the engine draws on the decoded frame before the model
   * sees it (main/model/chat/markers.ts), in the frame's pixels.
   */
  markers?: Marker[];
}

export interface ReconstructRequest {
  /** A converted model folder (manifest.json + ONNX graphs + external weights). */
  modelDir: string;
  /** In the order the model must see them: frame 0 is the reference frame and fixes the resize target. */
  frames: FrameInput[];
  /** auto: CUDA when installed and it starts, else WebGPU on a real GPU, else the CPU (provider-probe.ts). */
  executionProvider?: 'cpu' | 'cuda' | 'webgpu' | 'auto';
  /** Measured stage speeds of this model from earlier runs (any provider); absent: estimate conservatively. */
  stageRates?: StageRate[];
}

export interface ReconstructionOutput {
  frameCount: number;
  /** Size of the per-frame maps (the model's input size, e.g. 518x294). */
  width: number;
  height: number;
  /** N x 4 x 4 camera-to-world, row-major. */
  worldFromCamera: Float32Array;
  /** N x H x W x 3 point maps in each frame's own camera. */
  localPoints: Float32Array;
  /** N x H x W x 3 world points (pose applied to the local points). */
  worldPoints: Float32Array;
  /** N x H x W x 3 output of the global point head (frame 0's frame). */
  globalPoints: Float32Array;
  /** N x H x W x 3 colours of the resized input images (uint8 RGB). */
  colors: Uint8Array;
  /** The provider(s) the graphs really ran on: "webgpu", "cpu", or "webgpu+cpu" when some fell back. */
  executionProvider: string;
  /** Why graphs that were asked to run on a GPU run on the CPU (absent when none did). */
  providerNotes?: string[];
  /** GPU runs: nodes ONNX Runtime ran on the CPU, per graph (absent on the CPU; runtime/node-placement.ts). */
  cpuNodes?: Record<string, number>;
  /** The same nodes by op type, per graph. */
  cpuNodeOps?: Record<string, Record<string, number>>;
  precision: string;
  timingsMs: Record<string, number>;
  /** The long stages' work and time, for the studio's store of stage rates. */
  stageMeasurements?: StageMeasurement[];
}

export interface ChatRequest {
  modelDir: string;
  frames: FrameInput[];
  question: string;
  maxNewTokens?: number;
  /** 0 = greedy (default, as the official code). */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  executionProvider?: 'cpu' | 'cuda' | 'webgpu' | 'auto';
  /** Reuse the system + geometry + vision prefill of this scene if cached. */
  prefixCacheKey?: string;
  /** Measured stage speeds of this model from earlier runs (any provider; shared with reconstruction). */
  stageRates?: StageRate[];
}

export interface ChatOutput {
  answer: string;
  tokenIds: number[];
  executionProvider: string;
  /** Why graphs that were asked to run on a GPU run on the CPU (absent when none did). */
  providerNotes?: string[];
  /** GPU runs: nodes ONNX Runtime ran on the CPU, per graph loaded by this process so far. */
  cpuNodes?: Record<string, number>;
  cpuNodeOps?: Record<string, Record<string, number>>;
  precision: string;
  timingsMs: Record<string, number>;
  prefixReused: boolean;
  /** The long stages' work and time (none when the prefix was reused). */
  stageMeasurements?: StageMeasurement[];
}

export interface MemoryEstimate {
  /** Bytes the run is expected to need at its peak. */
  peakBytes: number;
  /** Bytes available to this process now. */
  availableBytes: number;
  fits: boolean;
  /** Largest frame count that fits at this resolution. */
  maxFrames: number;
}
