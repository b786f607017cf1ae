// Runs ffmpeg/ffprobe as child processes that die with the job: an AbortSignal
// kills the process (SIGKILL, no half-written output to flush) and the promise
// only settles once the process has exited, so nothing is left running. A binary
// that cannot be started (deleted since it was located) is StudioError('ffmpeg-missing').

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { basename } from 'node:path';
import { StudioError, cancelledError } from '../../common/errors';

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The last part of stderr (bounded: ffmpeg can be chatty). */
  stderr: string;
}

const STDERR_KEEP = 64 * 1024;

/** Keep only the tail of a growing text, so a chatty process cannot fill memory. */
export class TextTail {
  private text = '';
  constructor(private readonly limit = STDERR_KEEP) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.length > this.limit ? this.text.slice(-this.limit) : this.text;
  }
}

/** Spawn a process whose life is bound to `signal`. Resolves with its output once it has exited. */
export function runProcess(
  command: string,
  args: string[],
  opts: {
    signal?: AbortSignal;
    what: string;
    onStdout?: (chunk: Buffer, child: ChildProcessWithoutNullStreams) => void;
    onStderr?: (text: string) => void;
  },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(cancelledError(opts.what));
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    }) as unknown as ChildProcessWithoutNullStreams;
    const stdoutChunks: Buffer[] = [];
    const stderr = new TextTail();
    let aborted = false;
    let spawnError: Error | null = null;
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (opts.onStdout) opts.onStdout(chunk, child);
      else stdoutChunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr.push(text);
      opts.onStderr?.(text);
    });
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (aborted) return reject(cancelledError(opts.what));
      if (spawnError)
        return reject(
          new StudioError(
            'ffmpeg-missing',
            `${basename(command)} could not be started (${spawnError.message}).`,
            'Reinstall ffmpeg or point G2STUDIO_FFMPEG at a working ffmpeg binary.',
            {
              cause: spawnError,
            },
          ),
        );
      resolve({ exitCode, signal, stdout: Buffer.concat(stdoutChunks), stderr: stderr.toString() });
    });
  });
}
