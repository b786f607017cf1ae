// `g2studio reconstruct`: cameras and a point cloud from a scene's frames with
// G2VLM; `--estimate` prints the memory the run would need (the figure the
// engine refuses by) without running it.

import { Command } from 'commander';
import { resolve } from 'node:path';
import { StudioError } from '../../common/errors';
import type { Studio } from '../../core/studio';
import { estimateReconstructionMemory } from '../../model';
import type { CliContext } from '../cli-context';
import { findScene, followJob, registerModel } from '../cli-support';
import { formatBytes, printJson, printLine, type CliIo } from '../output';

async function printReconstructionEstimate(
  studio: Studio,
  io: CliIo,
  json: boolean,
  sceneId: string,
  model: string | undefined,
): Promise<void> {
  const scene = await studio.run('scenes.get', { sceneId });
  const frames = scene.frames.filter((f) => f.selected);
  const modelDir = model ? resolve(model) : (await studio.run('models.list', {})).find((m) => m.active)?.path;
  if (!modelDir || frames.length === 0) {
    throw new StudioError(
      'invalid-input',
      modelDir ? 'The scene has no selected frames.' : 'No model is active.',
      modelDir ? 'Import frames first.' : 'Pass --model <dir> or install a model (g2studio model use).',
    );
  }
  const estimate = await estimateReconstructionMemory(
    modelDir,
    frames.length,
    frames[0].width,
    frames[0].height,
  );
  if (json) return printJson(io, { estimate: { ...estimate, frameCount: frames.length, modelDir } });
  printLine(
    io,
    `${frames.length} frames need about ${formatBytes(estimate.peakBytes)} (${formatBytes(estimate.availableBytes)} available): ` +
      (estimate.fits ? 'fits.' : `does not fit; at most ${estimate.maxFrames} frames fit.`),
  );
}

export function registerReconstructCommand(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('reconstruct')
    .description('reconstruct cameras and a point cloud from the scene frames with G2VLM')
    .argument('<scene>', 'scene id or name')
    .option('--model <dir>', 'converted model folder (registered and made active); default: the active model')
    .option('--estimate', 'print the memory the run would need (and whether it fits) without running it')
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { model?: string; estimate?: boolean }) => {
        const scene = await findScene(studio, sceneRef);
        if (opts.estimate) return printReconstructionEstimate(studio, io, json, scene.id, opts.model);
        const modelId = opts.model ? await registerModel(studio, opts.model) : undefined;
        const { jobId } = await studio.run('scenes.reconstruct', { sceneId: scene.id, modelId });
        await followJob(studio, io, jobId, 'reconstruct');
        const updated = await studio.run('scenes.get', { sceneId: scene.id });
        if (json) return printJson(io, updated);
        printLine(
          io,
          `Reconstructed "${updated.name}": ${updated.cameras.length} cameras, ${updated.pointCount} points.`,
        );
      }),
    );
}
