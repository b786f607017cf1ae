// `g2studio reconstruct`: cameras and a point cloud from a scene's frames with
// G2VLM; `--estimate` prints the memory the run would need (the figure the
// engine refuses by) without running it.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { findScene, followJob, registerModel } from '../cli-support';
import { printMemoryEstimate } from '../estimate-output';
import { printJson, printLine } from '../output';

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
        if (opts.estimate)
          return printMemoryEstimate(studio, io, json, 'reconstruction', scene.id, opts.model);
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
