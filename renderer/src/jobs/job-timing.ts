// Elapsed time and an estimate of the time left for a running job, from what
// the Jobs panel has seen of it. The estimate uses the rate of the current
// stage only (stages run at very different speeds: reading frames is fast,
// understanding the scene is slow), and is shown only once the stage has
// moved for a while, so it never promises from one early sample.

import type { JobInfo, JobKind } from '../../../main/common/domain';
import { formatDuration, timeLeftWords } from '../../../main/common/job-stages';

export interface StageClock {
  stage: string;
  /** ms timestamps and progress (0..1) when the stage was first seen, and the latest sample. */
  startedAt: number;
  startProgress: number;
  lastAt: number;
  lastProgress: number;
}

/** Seconds a stage must have run, and progress it must have made, before an ETA is shown. */
export const ETA_MIN_STAGE_S = 2;
export const ETA_MIN_PROGRESS = 0.01;

export function advanceClock(
  clock: StageClock | undefined,
  stage: string,
  progress: number,
  now: number,
): StageClock {
  if (!clock || clock.stage !== stage) {
    return { stage, startedAt: now, startProgress: progress, lastAt: now, lastProgress: progress };
  }
  return { ...clock, lastAt: now, lastProgress: Math.max(clock.lastProgress, progress) };
}

/** Seconds left at the current stage's rate, or null while there is no honest estimate. */
export function secondsLeft(clock: StageClock | undefined): number | null {
  if (!clock) return null;
  const seconds = (clock.lastAt - clock.startedAt) / 1000;
  const moved = clock.lastProgress - clock.startProgress;
  if (seconds < ETA_MIN_STAGE_S || moved < ETA_MIN_PROGRESS) return null;
  return ((1 - clock.lastProgress) * seconds) / moved;
}

/**
 * The words for a running job's time left. A job whose work estimates itself
 * (a reconstruction: the model's measured stage rates) is believed, including
 * when it says it cannot promise a time yet; any other job gets the current
 * stage's observed rate once that is steady (secondsLeft), or nothing.
 */
export function jobTimeLeftWords(job: JobInfo, clock: StageClock | undefined): string | null {
  if (job.timing?.estimate) return timeLeftWords(job.timing, job.timing.secondsLeft ?? null);
  // A reconstruction's short untimed steps (reading frames, saving) say nothing about its
  // long ones: extrapolating them would promise minutes as seconds.
  if (SELF_TIMED_KINDS.has(job.kind)) return null;
  return timeLeftWords(undefined, secondsLeft(clock));
}

/** Jobs whose time left comes only from the work's own estimate. */
const SELF_TIMED_KINDS: ReadonlySet<JobKind> = new Set<JobKind>(['reconstruct']);

/** Seconds the job's current stage has run, when the job says when it began. */
export function stageSeconds(job: JobInfo, now: number): number | null {
  const began = job.timing ? Date.parse(job.timing.stageStartedAt) : NaN;
  return Number.isFinite(began) ? Math.max(0, (now - began) / 1000) : null;
}

// One duration format for the Jobs panel and the CLI's progress bar.
export { formatDuration };
