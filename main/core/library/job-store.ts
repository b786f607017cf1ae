// The jobs table: what ran, how it ended, and its one readable log line, so
// the UI can show history across restarts.

import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
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

/** Whether a process with this id is running on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process that runs the jobs a store saves: its pid, and an id unique to this run of it. */
export interface JobOwner {
  pid: number;
  instance: string;
}

/** This process. The instance id tells a restarted process from its previous run that had the same pid (containers). */
export const THIS_PROCESS: JobOwner = { pid: process.pid, instance: randomBytes(8).toString('hex') };

export class JobStore {
  /**
   * The app and the CLI can share one library: each owns only the jobs it
   * runs, and only fails unfinished jobs whose owner is gone.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly owner: JobOwner = THIS_PROCESS,
  ) {}

  /** Insert or update the whole row (jobs are small; one statement either way). */
  save(job: JobInfo): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, title, scene_id, status, progress, stage, message, error_json, result_json,
           created_at, finished_at, owner_pid, owner_instance)
         VALUES (@id, @kind, @title, @sceneId, @status, @progress, @stage, @message, @error, @result, @createdAt,
           @finishedAt, @ownerPid, @ownerInstance)
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
        ownerPid: this.owner.pid,
        ownerInstance: this.owner.instance,
      });
  }

  get(jobId: string): JobInfo | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  /** Newest first. Jobs of a scene that was deleted are not listed: they concern nothing the user has. */
  list(sceneId?: string, limit = 200): JobInfo[] {
    const rows = (
      sceneId
        ? this.db
            .prepare('SELECT * FROM jobs WHERE scene_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
            .all(sceneId, limit)
        : this.db
            .prepare(
              `SELECT * FROM jobs WHERE scene_id IS NULL OR scene_id IN (SELECT id FROM scenes)
               ORDER BY created_at DESC, rowid DESC LIMIT ?`,
            )
            .all(limit)
    ) as JobRow[];
    return rows.map(toJob);
  }

  /** Forget finished jobs, of one scene or all; returns how many. Queued and running jobs stay. */
  forgetFinished(sceneId?: string): number {
    const finished = `status IN ('succeeded', 'failed', 'cancelled')`;
    return sceneId
      ? this.db.prepare(`DELETE FROM jobs WHERE ${finished} AND scene_id = ?`).run(sceneId).changes
      : this.db.prepare(`DELETE FROM jobs WHERE ${finished}`).run().changes;
  }

  /** Forget finished jobs beyond the newest `keep` (the history a user scrolls through). */
  prune(keep = 1000): number {
    return this.db
      .prepare(
        `DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND id NOT IN (
           SELECT id FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
      )
      .run(keep).changes;
  }

  /**
   * Jobs still queued or running whose process is gone were interrupted by a
   * crash or a kill: mark them failed so nobody waits for them. Jobs of a
   * process still running (the app, while the CLI opens the same library) are
   * left alone.
   */
  failInterrupted(): number {
    const unfinished = this.db
      .prepare(`SELECT id, owner_pid, owner_instance FROM jobs WHERE status IN ('queued', 'running')`)
      .all() as Array<{ id: string; owner_pid: number | null; owner_instance: string | null }>;
    const orphaned = unfinished.filter((job) => {
      if (job.owner_pid === null || job.owner_instance === null) return true;
      if (job.owner_instance === this.owner.instance) return false;
      // Our pid but another instance: an earlier run of this process that died.
      if (job.owner_pid === this.owner.pid) return true;
      return !processAlive(job.owner_pid);
    });
    const fail = this.db.prepare(
      `UPDATE jobs SET status = 'failed', error_json = ?, finished_at = ?,
         message = CASE WHEN message = '' THEN ? ELSE message || ' (interrupted)' END
       WHERE id = ? AND status IN ('queued', 'running')`,
    );
    const now = nowIso();
    this.db.transaction(() => {
      for (const job of orphaned)
        fail.run(JSON.stringify(INTERRUPTED_ERROR), now, INTERRUPTED_ERROR.message, job.id);
    })();
    return orphaned.length;
  }
}
