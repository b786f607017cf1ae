// The benchmark sections `npm run bench` runs, in order. Pass section names as
// arguments to run a subset: `npm run bench -- model chat`.
import type { BenchSection } from './bench-types';
import { runChatBench } from './chat-bench';
import { runCleanupBench } from './cleanup-bench';
import { runGpuBench } from './gpu-bench';
import { runLibraryBench } from './library-bench';
import { runMediaBench } from './media-bench';
import { runModelBench } from './model-bench';
import { runPrecisionBench } from './precision-bench';
import { runReal2bBench } from './real-2b-bench';
import { runViewerBench } from './viewer-bench';

export const benchSections: Record<string, () => Promise<BenchSection>> = {
  media: runMediaBench,
  library: runLibraryBench,
  model: runModelBench,
  precision: runPrecisionBench,
  'real-2b': runReal2bBench,
  chat: runChatBench,
  cleanup: runCleanupBench,
  viewer: runViewerBench,
  gpu: runGpuBench,
};
