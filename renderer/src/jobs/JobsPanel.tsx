import { useCallback, useEffect, useState } from 'react';
import type { JobInfo } from '../../../main/common/domain';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { ACTIVE_STATUSES as ACTIVE, mergeJobs } from './job-snapshots';

const MAX_SHOWN = 30;

/** Every long operation with live progress (stage, %, message), Cancel, and errors with their fix. */
export function JobsPanel() {
  const { client, showError } = useStudio();
  const [jobs, setJobs] = useState<JobInfo[]>([]);

  const refresh = useCallback(() => {
    client
      .call('jobs.list', {})
      .then((list) => setJobs((current) => mergeJobs(current, list, MAX_SHOWN)), showError);
  }, [client, showError]);
  useEffect(refresh, [refresh]);

  useStudioEvents((event) => {
    if (event.type === 'job') setJobs((list) => mergeJobs(list, [event.job], MAX_SHOWN));
    // Sent after the events socket reconnects, when job events may have been missed.
    if (event.type === 'scenes-changed') refresh();
  });

  const cancel = async (job: JobInfo) => {
    try {
      const updated = await client.call('jobs.cancel', { jobId: job.id });
      setJobs((list) => mergeJobs(list, [updated], MAX_SHOWN));
    } catch (error) {
      showError(error);
    }
  };

  const active = jobs.filter((job) => ACTIVE.has(job.status)).length;
  return (
    <aside className="jobs-panel" data-testid="jobs-panel">
      <div className="panel-header">
        <h2>Jobs</h2>
        {active > 0 && <span className="badge">{active} running</span>}
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
                <div className="job-stage" data-testid="job-stage">
                  <span>{job.stage || 'waiting'}</span>
                  <span>{Math.round(job.progress * 100)}%</span>
                </div>
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
