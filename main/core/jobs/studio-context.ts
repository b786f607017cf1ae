// What the studio's job handlers share: the library, the model engine (started
// lazily: most sessions never load a model), ffmpeg, and the event stream.

import type { FfmpegInfo, StudioEvent } from '../../common/domain';
import type {
  ChatOutput,
  ChatRequest,
  EngineProgress,
  MemoryEstimate,
  ReconstructionOutput,
  ReconstructRequest,
} from '../../model';
import type { Library } from '../library/library';

/** The model engine as the studio uses it (main/model/engine/engine-client.ts implements it). */
export interface Engine {
  reconstruct(
    req: ReconstructRequest,
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void },
  ): Promise<ReconstructionOutput>;
  chat(
    req: ChatRequest,
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken: (text: string) => void },
  ): Promise<ChatOutput>;
  estimateReconstruction(
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
  ): Promise<MemoryEstimate>;
  close(): Promise<void>;
}

export interface StudioContext {
  library: Library;
  engine(): Promise<Engine>;
  ffmpeg(): Promise<FfmpegInfo>;
  emit(event: StudioEvent): void;
  /** Frames taken from a video when the import does not say. */
  defaultFrameCount: number;
  executionProvider: 'cpu' | 'cuda' | 'webgpu' | 'auto';
}
