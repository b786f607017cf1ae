// `g2studio info`: version, library, ffmpeg, execution providers and the active model.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printJson, printLine } from '../output';

export function registerInfoCommand(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('info')
    .description('version, library, ffmpeg and execution providers in use')
    .action(
      withStudio(async (studio, json) => {
        const info = await studio.run('app.info', {});
        if (json) return printJson(io, info);
        printLine(io, `G2 Studio ${info.version}`);
        printLine(io, `library:   ${info.libraryPath}`);
        printLine(
          io,
          `ffmpeg:    ${info.ffmpeg ? `${info.ffmpeg.version} (${info.ffmpeg.source}: ${info.ffmpeg.ffmpegPath})` : 'not found — video import needs it (install ffmpeg or set G2STUDIO_FFMPEG)'}`,
        );
        printLine(io, `providers: ${info.executionProviders.join(', ')}`);
        const models = await studio.run('models.list', {});
        const active = models.find((m) => m.active);
        printLine(
          io,
          `model:     ${active ? `${active.name} (${active.precision}, ${active.path})` : 'none registered'}`,
        );
      }),
    );
}
