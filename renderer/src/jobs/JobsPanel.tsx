import { useCallback, useEffect, useReducer } from 'react';
import type { JobInfo } from '../../../main/common/domain';
import { stageName } from '../../../main/common/job-stages';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { ACTIVE_STATUSES as ACTIVE, mergeJobs } from './job-snapshots';
import { advanceClock, formatDuration, jobTimeLeftWords, stageSeconds, type StageClock } from './job-timing';

const MAX_SHOWN = 30;

interface PanelState {
  jobs: JobInfo[];
  /** Per running job, when its current stage was first seen and how far it has moved since. */
  clocks: Map<string, StageClock>;
  now: number;
}

type PanelAction =
  | { type: 'merge'; incoming: JobInfo[]; now: number }
  | { type: 'keep-active' }
  | { type: 'tick'; now: number };

function withClocks(
  jobs: JobInfo[],
  previous: Map<string, StageClock>,
  now: number,
): Map<string, StageClock> {
  const clocks = new Map<string, StageClock>();
  for (const job of jobs) {
    if (ACTIVE.has(job.status))
      clocks.set(job.id, advanceClock(previous.get(job.id), job.stage, job.progress, now));
  }
  return clocks;
}

function reduce(state: PanelState, action: PanelAction): PanelState {
  switch (action.type) {
    case 'merge': {
      const jobs = mergeJobs(state.jobs, action.incoming, MAX_SHOWN);
      return { jobs, clocks: withClocks(jobs, state.clocks, action.now), now: action.now };
    }
    case 'keep-active':
      return { ...state, jobs: state.jobs.filter((job) => ACTIVE.has(job.status)) };
    case 'tick':
      return { ...state, clocks: withClocks(state.jobs, state.clocks, action.now), now: action.now };
  }
}

/** Every long operation with live progress (stage, %, time), Cancel, and errors with their fix. */
export function JobsPanel() {
  const { client, showError } = useStudio();
  const [{ jobs, clocks, now }, dispatch] = useReducer(reduce, undefined, () => ({
    jobs: [],
    clocks: new Map<string, StageClock>(),
    now: Date.now(),
  }));
  const merge = useCallback(
    (incoming: JobInfo[]) => dispatch({ type: 'merge', incoming, now: Date.now() }),
    [],
  );

  const refresh = useCallback(() => {
    client.call('jobs.list', {}).then(merge, showError);
  }, [client, showError, merge]);
  useEffect(refresh, [refresh]);

  useStudioEvents((event) => {
    if (event.type === 'job') merge([event.job]);
    // Sent after the events socket reconnects, when job events may have been missed.
    if (event.type === 'scenes-changed') refresh();
  });

  const cancel = async (job: JobInfo) => {
    try {
      merge([await client.call('jobs.cancel', { jobId: job.id })]);
    } catch (error) {
      showError(error);
    }
  };

  const clear = async () => {
    try {
      await client.call('jobs.clear', {});
      dispatch({ type: 'keep-active' });
    } catch (error) {
      showError(error);
    }
  };

  const active = jobs.filter((job) => ACTIVE.has(job.status)).length;
  // Elapsed time and the estimate tick once a second while something runs.
  useEffect(() => {
    if (active === 0) return;
    const timer = setInterval(() => dispatch({ type: 'tick', now: Date.now() }), 1000);
    return () => clearInterval(timer);
  }, [active]);

  return (
    <aside className="jobs-panel" data-testid="jobs-panel">
      <div className="panel-header">
        <h2>Jobs</h2>
        {active > 0 && <span className="badge">{active} running</span>}
        {jobs.length > active && (
          <button
            className="small-button panel-header-action"
            onClick={() => void clear()}
            data-testid="jobs-clear"
            title="Remove finished jobs from the list"
          >
            Clear
          </button>
        )}
      </div>
      {jobs.length === 0 && <p className="muted small">Imports, reconstructions and exports show up here.</p>}
      <ul className="job-list">
        {jobs.map((job) => (
          <li
            key={job.id}
            className={`job job-${job.status}`}
            data-testid="job"
            data-status={job.status}
            data-kind={job.kind}
          >
            <div className="job-title">
              <span title={job.title}>{job.title}</span>
              <span className={`status-chip status-${job.status}`}>{job.status}</span>
            </div>
            {ACTIVE.has(job.status) && (
              <>
                <div
                  className="progress"
                  role="progressbar"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round(job.progress * 100)}
                >
                  <div className="progress-fill" style={{ width: `${Math.round(job.progress * 100)}%` }} />
                </div>
                <div className="job-stage" data-testid="job-stage" data-stage={job.stage}>
                  <span>{stageName(job.stage, job.kind)}</span>
                  <span>{Math.round(job.progress * 100)}%</span>
                </div>
                <JobTime job={job} clock={clocks.get(job.id)} now={now} />
              </>
            )}
            {job.message && !(job.status === 'failed' && job.error) && (
              <div className="job-message">{job.message}</div>
            )}
            {job.error && job.status === 'failed' && (
              <div className="job-error" data-testid="job-error">
                <strong>{job.error.message}</strong>
                {job.error.fix && <span>{job.error.fix}</span>}
              </div>
            )}
            {ACTIVE.has(job.status) && (
              <button className="small-button" onClick={() => void cancel(job)} data-testid="job-cancel">
                Cancel
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}

function JobTime({ job, clock, now }: { job: JobInfo; clock: StageClock | undefined; now: number }) {
  const elapsed = (now - Date.parse(job.createdAt)) / 1000;
  const inStage = stageSeconds(job, now);
  const left = jobTimeLeftWords(job, clock);
  return (
    <div className="job-time muted small" data-testid="job-time">
      <span>
        {Number.isFinite(elapsed) ? `${formatDuration(elapsed)} elapsed` : ''}
        {/* The stage's own time shows a long stage is running, not stuck. */}
        {inStage !== null && inStage >= 1 && (
          <span data-testid="job-stage-time"> · this step {formatDuration(inStage)}</span>
        )}
      </span>
      {left !== null && (
        <span data-testid="job-eta" data-estimate={job.timing?.estimate ?? 'observed'}>
          {left}
        </span>
      )}
    </div>
  );
}
