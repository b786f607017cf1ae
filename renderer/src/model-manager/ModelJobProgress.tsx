import type { JobInfo } from '../../../main/common/domain';
import { ACTIVE_STATUSES } from '../jobs/job-snapshots';

const STAGE_LABELS: Record<string, string> = {
  queued: 'Waiting for other jobs',
  starting: 'Starting',
  download: 'Downloading',
  verify: 'Checking',
  convert: 'Converting',
  done: 'Done',
  cancelled: 'Cancelled',
};

/** A model job's stage, progress bar and line (bytes while downloading), with Cancel while it runs. */
export function ModelJobProgress({ job, onCancel }: { job: JobInfo | null; onCancel(): void }) {
  if (!job) return <p className="muted small">Starting…</p>;
  const active = ACTIVE_STATUSES.has(job.status);
  const percent = Math.round(job.progress * 100);
  return (
    <div className="model-job" data-testid="model-job" data-status={job.status} data-stage={job.stage}>
      <div className="model-job-head">
        <span>{job.title}</span>
        <span className={`status-chip status-${job.status}`}>{job.status}</span>
      </div>
      {active && (
        <>
          <div
            className="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
          >
            <div className="progress-fill" style={{ width: `${percent}%` }} />
          </div>
          <div className="job-stage">
            <span data-testid="model-job-stage">{STAGE_LABELS[job.stage] ?? job.stage}</span>
            <span>{percent}%</span>
          </div>
        </>
      )}
      {job.status === 'failed' && job.error ? (
        <div className="job-error" role="alert" data-testid="model-job-error" data-code={job.error.code}>
          <strong>{job.error.message}</strong>
          {job.error.fix && <span>{job.error.fix}</span>}
        </div>
      ) : (
        <div className="job-message small" data-testid="model-job-message">
          {job.status === 'cancelled' && job.kind === 'download'
            ? 'Cancelled. What was downloaded is kept: Download again resumes where it stopped.'
            : job.message}
        </div>
      )}
      {active && (
        <button className="small-button" onClick={onCancel} data-testid="model-job-cancel">
          Cancel
        </button>
      )}
    </div>
  );
}
