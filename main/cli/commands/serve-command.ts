// `g2studio serve`: the studio in a browser on this machine (web mode).

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printJson, printLine } from '../output';
import { parseInteger } from '../cli-context';

export function registerServeCommand(program: Command, ctx: CliContext): void {
  const { io, globals, openStudio } = ctx;

  program
    .command('serve')
    .description('serve the studio to a browser on this machine (web mode)')
    .option('--port <n>', 'port (default: a free one)', parseInteger('--port', 0, 65535))
    .option('--host <host>', 'loopback address to bind', '127.0.0.1')
    .action(async (opts: { port?: number; host: string }, cmd: Command) => {
      const g = globals(cmd);
      const studio = await openStudio(cmd, 'web');
      try {
        const { startWebServer } = await import('../../server/web-server');
        const server = await startWebServer(studio, { port: opts.port ?? 0, host: opts.host });
        if (g.json) printJson(io, { url: server.url, token: server.token });
        else {
          printLine(io, `G2 Studio is serving ${studio.library.location.dir}`);
          printLine(io, `Open: ${server.url}`);
          printLine(io, 'Press Ctrl+C to stop.');
        }
        await new Promise<void>((done) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            done();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
      } finally {
        await studio.close();
      }
    });
}
