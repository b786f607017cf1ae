// Entry point of the `g2studio` CLI (built to out/main/cli.js, started by
// bin/g2studio.js). Errors a user can cause end as "Error: … / Fix: …" and a
// non-zero exit code, never a stack trace.

import { formatError } from './output';
import { runCli, type CommandContributor } from './program';
import { toStudioErrorInfo } from '../common/errors';
import { registerModelCommands } from './model-commands';

// Model commands (`g2studio model convert|verify-golden|…`) live with the model code.
const contributors: CommandContributor[] = [registerModelCommands];

function fatal(error: unknown): void {
  process.stderr.write(formatError(toStudioErrorInfo(error)));
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

void runCli(process.argv, { contributors }).then((code) => {
  process.exitCode = code;
});
