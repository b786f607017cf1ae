// Recent jobs and how they ended.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printJson, printLine, table } from '../output';
import { findScene } from '../cli-support';

export function registerJobCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('jobs')
    .description('recent jobs and how they ended')
    .option('--scene <scene>', 'only jobs of this scene')
    .action(
      withStudio(async (studio, json, opts: { scene?: string }) => {
        const sceneId = opts.scene ? (await findScene(studio, opts.scene)).id : undefined;
        const jobs = await studio.run('jobs.list', { sceneId });
        if (json) return printJson(io, jobs);
        printLine(
          io,
          table([
            ['ID', 'KIND', 'STATUS', 'CREATED', 'MESSAGE'],
            ...jobs.map((j) => [
              j.id,
              j.kind,
              j.status,
              j.createdAt.replace('T', ' ').slice(0, 19),
              j.message,
            ]),
          ]),
        );
      }),
    );
}
