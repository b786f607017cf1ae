// The `g2studio` command line: a thin front door onto the studio core. The
// global options are declared here, once; every command group lives in
// main/cli/commands/ and gets the same CliContext (cli-context.ts): one way to
// open the studio, one progress view (progress.ts), one typed call.

import { Command, CommanderError, Option } from 'commander';
import { APP_VERSION } from '../core/settings';
import { createCliContext, type GlobalOptions } from './cli-context';
import { registerImportExportCommands } from './commands/import-export-commands';
import { registerInfoCommand } from './commands/info-command';
import { registerJobCommands } from './commands/job-commands';
import { registerModelCommands } from './commands/model-commands';
import { registerQaCommands } from './commands/qa-commands';
import { registerReconstructCommand } from './commands/reconstruct-command';
import { registerSceneCommands } from './commands/scene-commands';
import { registerEditCommands } from './commands/edit-commands';
import { registerFrameCommands } from './commands/frame-commands';
import { registerMeasureCommands } from './commands/measure-commands';
import { registerServeCommand } from './commands/serve-command';
import { processIo, reportError, type CliIo } from './output';

export { parseMarker } from './cli-context';

export interface CliOptions {
  io?: CliIo;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('g2studio')
    .description('G2 Studio: phone video -> 3D scene with G2VLM, locally.')
    .version(APP_VERSION, '-V, --version')
    .option('--library <path>', 'library folder (default: G2STUDIO_LIBRARY or the app-data folder)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--ffmpeg <path>', 'ffmpeg binary to use (default: G2STUDIO_FFMPEG, bundled, then PATH)')
    .addOption(
      new Option(
        '--provider <ep>',
        'ONNX Runtime execution provider for the model (auto: CUDA if installed, else WebGPU on a real GPU, else CPU)',
      )
        .choices(['auto', 'cpu', 'webgpu', 'cuda'])
        .env('G2STUDIO_PROVIDER')
        .default('auto'),
    )
    .showHelpAfterError('(run g2studio --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const ctx = createCliContext(io);
  registerInfoCommand(program, ctx);
  registerImportExportCommands(program, ctx);
  registerSceneCommands(program, ctx);
  registerFrameCommands(program, ctx);
  registerReconstructCommand(program, ctx);
  registerQaCommands(program, ctx);
  registerJobCommands(program, ctx);
  registerServeCommand(program, ctx);
  registerEditCommands(program, ctx);
  registerMeasureCommands(program, ctx);
  registerModelCommands(program, ctx);
  return program;
}

/** Run the CLI; resolves with the exit code (never throws, never prints a stack trace). */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (usage errors, --help, --version).
      return error.exitCode;
    }
    const json = program.opts<GlobalOptions>().json === true || argv.includes('--json');
    const info = reportError(io, error, json);
    return info.code === 'cancelled' ? 130 : 1;
  }
}
