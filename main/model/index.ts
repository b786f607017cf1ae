// The model layer's one public face. Everything above the model (the studio
// core, the CLI, the web server, the Electron shell) imports the model only
// from here; an ESLint rule (eslint.config.mjs) enforces it. The model itself
// imports nothing from those layers: only main/common and main/base.
//
// Heavy parts (ONNX graph building, ONNX Runtime sessions, the converter) are
// loaded on first use, so importing the face stays cheap for the CLI and the
// web server.

// Engine: the worker-thread client that runs reconstruction and chat.
export type {
  ChatOutput,
  ChatRequest,
  EngineProgress,
  FrameInput,
  MemoryEstimate,
  ReconstructionOutput,
  ReconstructRequest,
  StageMeasurement,
  StageRate,
} from './engine/engine-types';
export type { EngineClient, EngineClientOptions } from './engine/engine-client';

/** Starts the engine worker (loaded on first use). */
export async function startEngine(
  options?: import('./engine/engine-client').EngineClientOptions,
): Promise<import('./engine/engine-client').EngineClient> {
  const { EngineClient } = await import('./engine/engine-client');
  return new EngineClient(options);
}

// Converted model folders.
export {
  MODEL_MANIFEST_FILE,
  readModelManifest,
  type GraphId,
  type ModelManifest,
} from './runtime/model-manifest';
export { PRECISIONS, type Precision } from './graph/precision';

/** The memory a reconstruction will need, from what its sessions really hold (the figure the engine refuses by). */
export async function estimateReconstructionMemory(
  ...args: Parameters<typeof import('./engine/memory-estimate').estimateReconstructionMemory>
): ReturnType<typeof import('./engine/memory-estimate').estimateReconstructionMemory> {
  const { estimateReconstructionMemory: estimate } = await import('./engine/memory-estimate');
  return estimate(...args);
}

/**
 * Each precision's disk size and reconstruction memory for a checkpoint folder
 * (or, without one, the official G2VLM-2B-MoT), and `auto`'s pick for the memory given.
 */
export async function precisionAdvice(
  ...args: Parameters<typeof import('./engine/precision-plan').precisionAdvice>
): ReturnType<typeof import('./engine/precision-plan').precisionAdvice> {
  const { precisionAdvice: advise } = await import('./engine/precision-plan');
  return advise(...args);
}

/** Bytes this process can still use: free memory, bounded by a cgroup limit. */
export async function availableMemoryBytes(): Promise<number> {
  const { availableMemoryBytes: available } = await import('./engine/memory-estimate');
  return available();
}

/** The memory one question will need, from what the chat sessions hold (the figure the engine refuses by). */
export async function estimateChatMemory(
  ...args: Parameters<typeof import('./engine/memory-estimate').estimateChatMemory>
): ReturnType<typeof import('./engine/memory-estimate').estimateChatMemory> {
  const { estimateChatMemory: estimate } = await import('./engine/memory-estimate');
  return estimate(...args);
}

// Checkpoints: the hub, downloads, local folders, random checkpoints, the catalog.
export { DEFAULT_REVISION, OFFICIAL_REPO_ID, checkRepoId } from './download/hub-endpoint';
export {
  DOWNLOAD_RECORD_FILE,
  discardPendingDownload,
  downloadCheckpoint,
  pendingDownload,
  type CheckpointDownloadOptions,
  type CheckpointDownloadResult,
  type DownloadProgress,
} from './download/checkpoint-download';
export { importCheckpointFolder, type ImportedCheckpoint } from './download/import-checkpoint';
export { openCheckpoint, parameterCount } from './checkpoint/checkpoint';
export {
  RANDOM_CHECKPOINT_PRESETS,
  generateRandomCheckpoint,
  randomCheckpointSize,
  type RandomCheckpointPreset,
} from './checkpoint/random-checkpoint';
export { modelCatalog, type CatalogModel, type ModelCatalog } from './checkpoint/catalog';

/** Converts a checkpoint folder into the runtime format (loaded on first use). */
export async function convertCheckpoint(
  ...args: Parameters<typeof import('./convert/convert-checkpoint').convertCheckpoint>
): ReturnType<typeof import('./convert/convert-checkpoint').convertCheckpoint> {
  const { convertCheckpoint: convert } = await import('./convert/convert-checkpoint');
  return convert(...args);
}
export type { ConvertOptions } from './convert/convert-checkpoint';
export { convertedModelId } from './convert/model-id';

/** Checks a converted model against an official golden set (loaded on first use). */
export async function verifyGolden(
  ...args: Parameters<typeof import('./golden/verify-golden').verifyGolden>
): ReturnType<typeof import('./golden/verify-golden').verifyGolden> {
  const { verifyGolden: verify } = await import('./golden/verify-golden');
  return verify(...args);
}
export type { GoldenReport, GoldenReportEntry } from './golden/verify-golden';
// Plain text only (no ONNX Runtime): which nodes of a GPU run ran on the CPU.
export { cpuNodesLine } from './runtime/node-placement';

// Q&A markers, drawn the way the model's training data marks points.
export { MARKER_COLORS, type Marker, type MarkerColor } from './chat/markers';

// Execution providers: which GPU providers start here, probed once per process
// in a quiet child process (loaded on first use).
export type { AutoProviderChoice, DiscoveredDevice, GpuProviderProbe } from './runtime/provider-probe';

/** The provider `auto` runs on here, with the WebGPU (and, when installed, CUDA) probes behind the choice. */
export async function autoProviderChoice(): Promise<import('./runtime/provider-probe').AutoProviderChoice> {
  const { autoProvider } = await import('./runtime/provider-probe');
  return autoProvider();
}

/** Whether fp16 models compute in fp16 on a WebGPU adapter (shader-f16, unless G2STUDIO_FLOAT16_COMPUTE=off). */
export async function webgpuFloat16Compute(shaderF16: boolean | null): Promise<boolean> {
  const { float16ComputeFor } = await import('./runtime/float16-compute-form');
  return float16ComputeFor('webgpu', shaderF16);
}

/** The CUDA major version the installed ORT CUDA provider links against (null: not installed or unreadable). */
export async function installedCudaProviderMajor(): Promise<number | null> {
  const { cudaMajorOfLibrary, cudaProviderLibrary } = await import('./runtime/provider-probe');
  const library = cudaProviderLibrary();
  return library ? cudaMajorOfLibrary(library) : null;
}
export { CHAT_MAX_FRAMES, chooseChatFrames } from './chat/frame-selection';
