// `g2studio reconstruct`: cameras and a point cloud from a scene's frames with G2VLM.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printJson, printLine } from '../output';
import { findScene, followJob, registerModel } from '../cli-support';

export function registerReconstructCommand(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('reconstruct')
    .description('reconstruct cameras and a point cloud from the scene frames with G2VLM')
    .argument('<scene>', 'scene id or name')
    .option('--model <dir>', 'converted model folder (registered and made active); default: the active model')
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { model?: string }) => {
        const scene = await findScene(studio, sceneRef);
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
