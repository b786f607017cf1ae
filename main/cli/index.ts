// Entry point of the `g2studio` CLI (built to out/main/cli.js, started by
// bin/g2studio.js). Errors a user can cause end as "Error: … / Fix: …" and a
// non-zero exit code, never a stack trace.

import { toStudioErrorInfo } from '../common/errors';
import { formatError } from './output';
import { runCli } from './program';

function fatal(error: unknown): void {
  process.stderr.write(formatError(toStudioErrorInfo(error)));
  process.exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

void runCli(process.argv).then((code) => {
  process.exitCode = code;
});
