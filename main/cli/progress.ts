// The CLI's one progress view, on stderr so stdout stays machine-readable: a
// bar on a terminal (the stage in words, the time elapsed and left, and the
// job's line, such as bytes downloaded); elsewhere (pipes, CI) one plain line
// per stage and per 10 % step with the stage id, which scripts can match, the
// times at its end. Ctrl+C handling for work that runs in this process is here too.

import { SingleBar } from 'cli-progress';
import type { JobInfo } from '../common/domain';
import { StudioError, cancelledError } from '../common/errors';
import { formatDuration, stageName, timeLeftWords, type JobTiming } from '../common/job-stages';
import type { CliIo } from './output';

export interface ProgressView {
  /** `timing`: the job's clock when it has one (its time left; elapsed counts from the view's start). */
  update(progress: number, stage: string, message?: string, timing?: JobTiming): void;
  stop(): void;
}

/** "12 s elapsed, about 40 s left" / "…, estimating time left": never a time the work did not measure. */
export function progressTimeWords(elapsedSeconds: number, timing?: JobTiming): string {
  const left = timeLeftWords(timing, timing?.secondsLeft ?? null);
  return `${formatDuration(elapsedSeconds)} elapsed${left ? `, ${left}` : ''}`;
}

export interface JobProgressView {
  update(job: JobInfo): void;
  stop(): void;
}

export function progressView(io: CliIo, title: string, startedAt = Date.now()): ProgressView {
  const elapsed = (): number => (Date.now() - startedAt) / 1000;
  if (io.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${title} [{bar}] {percentage}% {stage} ({time}){message}`,
      stream: io.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    });
    bar.start(100, 0, { stage: stageName('starting'), message: '', time: progressTimeWords(0) });
    return {
      update: (p, stage, message, timing) =>
        bar.update(Math.round(p * 100), {
          stage: stageName(stage),
          time: progressTimeWords(elapsed(), timing),
          message: message ? `: ${message.slice(0, 60)}` : '',
        }),
      stop: () => bar.stop(),
    };
  }
  let last = '';
  return {
    update: (p, stage, message, timing) => {
      const key = `${stage}:${Math.floor(p * 10)}`;
      if (key === last) return;
      last = key;
      const time = ` (${progressTimeWords(elapsed(), timing)})`;
      io.stderr.write(`${title}: ${stage} ${Math.round(p * 100)}%${message ? ` - ${message}` : ''}${time}\n`);
    },
    stop: () => undefined,
  };
}

/** A job's progress (while it runs) in the one progress view. */
export function jobProgressView(io: CliIo, title: string): JobProgressView {
  const view = progressView(io, title);
  return {
    update: (job) => {
      if (job.status === 'running') view.update(job.progress, job.stage, job.message, job.timing);
    },
    stop: () => view.stop(),
  };
}

/** An AbortSignal that fires on Ctrl+C / SIGTERM for the duration of `run`. */
export async function interruptible<T>(
  io: CliIo,
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    io.stderr.write(`\nCancelling ${what}…\n`);
    controller.abort(cancelledError(what));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof StudioError && error.code === 'cancelled')) {
      throw cancelledError(what);
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
