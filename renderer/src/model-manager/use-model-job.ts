import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobInfo } from '../../../main/common/domain';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { ACTIVE_STATUSES, laterSnapshot } from '../jobs/job-snapshots';

const isModelJob = (job: JobInfo): boolean => job.kind === 'download' || job.kind === 'convert';

/**
 * The model job (download or import) the Models view follows: the one it
 * started, or one already running when the view opens. Job events can arrive
 * before the call that started the job returns, so recent ones are kept.
 */
export function useModelJob(onFinished: (job: JobInfo) => void): {
  /** The followed job's id (set before its first snapshot arrives). */
  jobId: string | null;
  job: JobInfo | null;
  follow(jobId: string): void;
} {
  const { client, showError } = useStudio();
  const [jobId, setJobId] = useState<string | null>(null);
  const [job, setJob] = useState<JobInfo | null>(null);
  const seen = useRef(new Map<string, JobInfo>());
  const notified = useRef(new Set<string>());
  const onFinishedRef = useRef(onFinished);
  useEffect(() => {
    onFinishedRef.current = onFinished;
  });
  /** Once per job, however many snapshots of its end arrive. */
  const finished = useCallback((ended: JobInfo) => {
    if (ACTIVE_STATUSES.has(ended.status) || notified.current.has(ended.id)) return;
    notified.current.add(ended.id);
    onFinishedRef.current(ended);
  }, []);

  useEffect(() => {
    client.call('jobs.list', {}).then((jobs) => {
      const running = jobs.find((item) => isModelJob(item) && ACTIVE_STATUSES.has(item.status));
      if (running) {
        setJobId((current) => current ?? running.id);
        setJob((current) => current ?? running);
      }
    }, showError);
  }, [client, showError]);

  useStudioEvents((event) => {
    if (event.type !== 'job' || !isModelJob(event.job)) return;
    const known = seen.current.get(event.job.id);
    seen.current.set(event.job.id, known ? laterSnapshot(known, event.job) : event.job);
    if (event.job.id !== jobId) return;
    setJob((current) => (current?.id === event.job.id ? laterSnapshot(current, event.job) : event.job));
    finished(event.job);
  });

  const follow = useCallback(
    (id: string) => {
      setJobId(id);
      const known = seen.current.get(id) ?? null;
      setJob(known);
      if (known) finished(known);
    },
    [finished],
  );

  return { jobId, job, follow };
}
