// One question at a time per scene view: qa.ask returns a job id at once, the
// answer streams in as qa-token events and the job event says how it ended.
// Tokens and job snapshots are kept per job id from the moment they arrive,
// because the first ones can come before the call that started the job returns.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { OperationInput } from '../../../main/common/api';
import type { JobInfo } from '../../../main/common/domain';
import { StudioError } from '../../../main/common/errors';
import { asStudioError } from '../api/client';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { isActiveJob, laterSnapshot } from '../jobs/job-snapshots';

export interface AskState {
  jobId: string | null;
  /** The answer so far (the streamed tokens). */
  streamed: string;
  job: JobInfo | null;
  starting: boolean;
  error: StudioError | null;
}

export function useAskJob(sceneId: string, onFinished: (job: JobInfo) => void) {
  const { client } = useStudio();
  const [tokens, setTokens] = useState<Record<string, string>>({});
  const [snapshots, setSnapshots] = useState<Record<string, JobInfo>>({});
  const [jobId, setJobId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<StudioError | null>(null);

  const takeSnapshot = useCallback((job: JobInfo) => {
    setSnapshots((known) => {
      const previous = known[job.id];
      return { ...known, [job.id]: previous ? laterSnapshot(previous, job) : job };
    });
  }, []);

  useStudioEvents((event) => {
    if (event.type === 'qa-token' && event.sceneId === sceneId) {
      setTokens((known) => ({ ...known, [event.jobId]: (known[event.jobId] ?? '') + event.text }));
    }
    if (event.type === 'job' && event.job.kind === 'ask' && event.job.sceneId === sceneId) {
      takeSnapshot(event.job);
    }
  });

  // A question still running from before (the view was reopened): follow it.
  useEffect(() => {
    client.call('jobs.list', { sceneId }).then(
      (jobs) => {
        const running = jobs.find((job) => job.kind === 'ask' && isActiveJob(job));
        if (!running) return;
        takeSnapshot(running);
        setJobId((id) => id ?? running.id);
      },
      () => undefined, // without the list, the next question still works
    );
  }, [client, sceneId, takeSnapshot]);

  const ask = useCallback(
    async (input: Omit<OperationInput<'qa.ask'>, 'sceneId'>) => {
      setStarting(true);
      setError(null);
      // Forget the previous question's job now: until qa.ask answers there is no job
      // to cancel, and a Cancel pressed meanwhile must not go to the finished one.
      setJobId(null);
      try {
        const started = await client.call('qa.ask', { sceneId, ...input });
        setJobId(started.jobId);
      } catch (cause) {
        setError(asStudioError(cause));
      } finally {
        setStarting(false);
      }
    },
    [client, sceneId],
  );

  const cancel = useCallback(async () => {
    if (!jobId) return;
    try {
      takeSnapshot(await client.call('jobs.cancel', { jobId }));
    } catch (cause) {
      setError(asStudioError(cause));
    }
  }, [client, jobId, takeSnapshot]);

  const job = jobId ? (snapshots[jobId] ?? null) : null;
  // Report each question's end once, whichever way its last snapshot arrived.
  const finished = useRef(onFinished);
  const reported = useRef<string | null>(null);
  useEffect(() => {
    finished.current = onFinished;
  });
  useEffect(() => {
    if (job && !isActiveJob(job) && reported.current !== job.id) {
      reported.current = job.id;
      finished.current(job);
    }
  }, [job]);

  const jobError = job?.status === 'failed' && job.error ? StudioError.fromInfo(job.error) : null;
  const state: AskState = {
    jobId,
    streamed: jobId ? (tokens[jobId] ?? '') : '',
    job,
    starting,
    error: error ?? jobError,
  };
  return { state, ask, cancel };
}
