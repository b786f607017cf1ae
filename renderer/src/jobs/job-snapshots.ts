// Job state arrives two ways: pushed events and jobs.list answers. A list answer
// can be older than an event that arrived while it was in flight, so snapshots
// of one job are merged, never blindly replaced: a finished job stays finished,
// and progress never goes backwards.

import type { JobInfo, JobStatus } from '../../../main/common/domain';

export const ACTIVE_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['queued', 'running']);

export const isActiveJob = (job: JobInfo): boolean => ACTIVE_STATUSES.has(job.status);

/** Of two snapshots of one job, the later one. */
export function laterSnapshot(a: JobInfo, b: JobInfo): JobInfo {
  const aDone = !isActiveJob(a);
  const bDone = !isActiveJob(b);
  if (aDone !== bDone) return aDone ? a : b;
  if (aDone) return a.finishedAt && b.finishedAt && a.finishedAt > b.finishedAt ? a : b;
  if (a.status !== b.status) return a.status === 'running' ? a : b;
  return a.progress > b.progress ? a : b;
}

const byNewest = (a: JobInfo, b: JobInfo) => b.createdAt.localeCompare(a.createdAt);

/** The known jobs updated with incoming snapshots, newest first, at most `limit`. */
export function mergeJobs(current: JobInfo[], incoming: JobInfo[], limit = Infinity): JobInfo[] {
  const merged = new Map(current.map((job) => [job.id, job]));
  for (const job of incoming) {
    const known = merged.get(job.id);
    merged.set(job.id, known ? laterSnapshot(known, job) : job);
  }
  return [...merged.values()].sort(byNewest).slice(0, limit);
}
