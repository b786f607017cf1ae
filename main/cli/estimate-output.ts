// `reconstruct --estimate` and `ask --estimate`: the memory a job over the
// scene's selected frames would need with a model, printed without running it.

import { resolve } from 'node:path';
import { StudioError } from '../common/errors';
import type { Studio } from '../core/studio';
import { CHAT_MAX_FRAMES, estimateChatMemory, estimateReconstructionMemory } from '../model';
import { formatBytes, printJson, printLine, type CliIo } from './output';

const JOBS = {
  reconstruction: {
    estimate: estimateReconstructionMemory,
    frameCap: Number.POSITIVE_INFINITY,
    noFrames: 'The scene has no selected frames.',
    subject: (n: number) => `${n} frames need`,
  },
  // A question goes to the model with at most CHAT_MAX_FRAMES frames.
  chat: {
    estimate: estimateChatMemory,
    frameCap: CHAT_MAX_FRAMES,
    noFrames: 'The scene has no selected frames to ask about.',
    subject: (n: number) => `A question over ${n} frames needs`,
  },
} as const;

export async function printMemoryEstimate(
  studio: Studio,
  io: CliIo,
  json: boolean,
  job: keyof typeof JOBS,
  sceneId: string,
  model: string | undefined,
): Promise<void> {
  const { estimate: estimateFor, frameCap, noFrames, subject } = JOBS[job];
  const scene = await studio.run('scenes.get', { sceneId });
  const frames = scene.frames.filter((f) => f.selected).slice(0, frameCap);
  const modelDir = model ? resolve(model) : (await studio.run('models.list', {})).find((m) => m.active)?.path;
  if (!modelDir || frames.length === 0) {
    throw new StudioError(
      'invalid-input',
      modelDir ? noFrames : 'No model is active.',
      modelDir ? 'Import frames first.' : 'Pass --model <dir> or install a model (g2studio model use).',
    );
  }
  const estimate = await estimateFor(modelDir, frames.length, frames[0].width, frames[0].height);
  if (json) return printJson(io, { estimate: { ...estimate, frameCount: frames.length, modelDir } });
  printLine(
    io,
    `${subject(frames.length)} about ${formatBytes(estimate.peakBytes)} (${formatBytes(estimate.availableBytes)} available): ` +
      (estimate.fits ? 'fits.' : `does not fit; at most ${estimate.maxFrames} frames fit.`),
  );
}
