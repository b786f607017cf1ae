// Child processes of the benchmarks: the built CLI (bin/g2studio.js) or a
// bench child script, one fresh process per measured run, so that its peak
// RSS and its provider's start-up are its own. The peak is the child's VmHWM
// from /proc (the high-water mark only grows, so polling cannot miss it).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built CLI (out/main is __dirname of the bundled benchmarks; main/bench under tsx). */
export const CLI = resolve(__dirname, '../../bin/g2studio.js');

/**
 * Node arguments that run a bench child script (`chat-probe-child`,
 * `gpu-bench-child`): the bundled one beside the bench in out/main, or its
 * source through tsx when the bench itself runs from sources.
 */
export function benchChildArgs(name: string): string[] {
  return __filename.endsWith('.ts')
    ? ['--import', 'tsx', resolve(__dirname, `${name}.ts`)]
    : [resolve(__dirname, `${name}.js`)];
}

export interface ProcessRun {
  code: number | null;
  /** Set when the process was killed at `timeoutMs` (or by a signal of its own). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  peakBytes: number;
  stdout: string;
  /** The last 4000 characters of stderr. */
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the child (SIGKILL) after this long; the run then reports timedOut. */
  timeoutMs?: number;
}

/** The peak resident set of a running process (VmHWM), 0 once it has exited. */
export function vmHwmBytes(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0; // exited between two polls
  }
}

/** Runs a Node script in a child process, polling its high-water mark until it exits. */
export function runNode(args: string[], options: RunOptions = {}): Promise<ProcessRun> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    });
    let stdout = '';
    let stderr = '';
    let peakBytes = 0;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const poll = setInterval(() => {
      if (child.pid) peakBytes = Math.max(peakBytes, vmHwmBytes(child.pid));
    }, 100);
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs)
        : undefined;
    const finish = (): void => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
    child.on('error', (error) => {
      finish();
      fail(error);
    });
    child.on('exit', (code, signal) => {
      finish();
      done({
        code,
        signal,
        timedOut,
        seconds: (performance.now() - started) / 1000,
        peakBytes,
        stdout,
        stderr,
      });
    });
  });
}

/** Runs the CLI in a child process, polling its high-water mark until it exits. */
export function runCli(args: string[], options: RunOptions = {}): Promise<ProcessRun> {
  return runNode([CLI, ...args], options);
}

/** The child's last stderr lines, for a failure note. */
export function failureTail(run: ProcessRun, lines = 3): string {
  if (run.timedOut) return `killed after ${run.seconds.toFixed(0)} s (time limit)`;
  const tail = run.stderr.trim().split('\n').slice(-lines).join(' ');
  return tail || `exit code ${run.code ?? run.signal}`;
}

/** A comma-separated list from the environment, or the fallback. */
export function listFromEnv(name: string, fallback: string[]): string[] {
  return (process.env[name] ?? fallback.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
