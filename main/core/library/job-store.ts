// The jobs table: what ran, how it ended, and its one readable log line, so
// the UI can show history across restarts.

import type Database from 'better-sqlite3';
import type { JobInfo, JobKind, JobStatus } from '../../common/domain';
import type { StudioErrorInfo } from '../../common/errors';
import { nowIso } from './ids';

interface JobRow {
  id: string;
  kind: JobKind;
  title: string;
  scene_id: string | null;
  status: JobStatus;
  progress: number;
  stage: string;
  message: string;
  error_json: string | null;
  result_json: string | null;
  created_at: string;
  finished_at: string | null;
}

function toJob(row: JobRow): JobInfo {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    sceneId: row.scene_id,
    status: row.status,
    progress: row.progress,
    stage: row.stage,
    message: row.message,
    error: row.error_json ? (JSON.parse(row.error_json) as StudioErrorInfo) : null,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    result: row.result_json ? (JSON.parse(row.result_json) as Record<string, unknown>) : null,
  };
}

export const INTERRUPTED_ERROR: StudioErrorInfo = {
  code: 'internal',
  message: 'The studio stopped while this job was running.',
  fix: 'Run the job again.',
};

export class JobStore {
  constructor(private readonly db: Database.Database) {}

  /** Insert or update the whole row (jobs are small; one statement either way). */
  save(job: JobInfo): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, title, scene_id, status, progress, stage, message, error_json, result_json,
           created_at, finished_at)
         VALUES (@id, @kind, @title, @sceneId, @status, @progress, @stage, @message, @error, @result, @createdAt,
           @finishedAt)
         ON CONFLICT(id) DO UPDATE SET
           scene_id = excluded.scene_id, status = excluded.status, progress = excluded.progress,
           stage = excluded.stage, message = excluded.message, error_json = excluded.error_json,
           result_json = excluded.result_json, finished_at = excluded.finished_at`,
      )
      .run({
        id: job.id,
        kind: job.kind,
        title: job.title,
        sceneId: job.sceneId,
        status: job.status,
        progress: job.progress,
        stage: job.stage,
        message: job.message,
        error: job.error ? JSON.stringify(job.error) : null,
        result: job.result ? JSON.stringify(job.result) : null,
        createdAt: job.createdAt,
        finishedAt: job.finishedAt,
      });
  }

  get(jobId: string): JobInfo | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  /** Newest first. */
  list(sceneId?: string, limit = 200): JobInfo[] {
    const rows = (
      sceneId
        ? this.db
            .prepare('SELECT * FROM jobs WHERE scene_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
            .all(sceneId, limit)
        : this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit)
    ) as JobRow[];
    return rows.map(toJob);
  }

  /**
   * Jobs still queued or running when the library is opened were interrupted
   * by a crash or a kill: mark them failed so nobody waits for them.
   */
  failInterrupted(): number {
    return this.db
      .prepare(
        `UPDATE jobs SET status = 'failed', error_json = ?, finished_at = ?,
           message = CASE WHEN message = '' THEN ? ELSE message || ' — interrupted' END
         WHERE status IN ('queued', 'running')`,
      )
      .run(JSON.stringify(INTERRUPTED_ERROR), nowIso(), INTERRUPTED_ERROR.message).changes;
  }
}
