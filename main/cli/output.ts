// How the CLI talks to people and scripts: plain lines (or one JSON document
// with --json) on stdout, errors as "message + fix" on stderr, never a stack
// trace. Progress is in progress.ts.

import { toStudioErrorInfo, type StudioErrorInfo } from '../common/errors';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** The error as a user reads it: what went wrong and what to do. */
export function formatError(info: StudioErrorInfo): string {
  return info.fix ? `Error: ${info.message}\nFix: ${info.fix}\n` : `Error: ${info.message}\n`;
}

export function reportError(io: CliIo, error: unknown, json: boolean): StudioErrorInfo {
  const info = toStudioErrorInfo(error);
  io.stderr.write(formatError(info));
  if (json) printJson(io, { error: info });
  return info;
}

/** Text table with left-aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
