// Every long operation is a job: queued, run one at a time (the heavy ones
// share the CPU and the model's memory), reporting progress 0..1 with a stage
// name, cancellable through an AbortSignal, and persisted so the UI can show
// what ran after a restart.

import type { JobInfo, JobKind } from '../../common/domain';
import type { StageEstimate } from '../../common/job-stages';
import { cancelledError, StudioError, toStudioErrorInfo } from '../../common/errors';
import { newId, nowIso } from '../library/ids';

/** Where job rows are kept (the library's jobs table in the studio). */
export interface JobPersistence {
  save(job: JobInfo): void;
  get(jobId: string): JobInfo | null;
  list(sceneId?: string): JobInfo[];
  forgetFinished(sceneId?: string): number;
}

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  /**
   * Progress 0..1 over the whole job and the stage it is in; work that can
   * tell (the model's stages) adds its time left and what that rests on.
   */
  progress(progress: number, stage?: string, timeLeft?: JobTimeLeft): void;
  /** Replace the job's one readable log line. */
  log(message: string): void;
  /** Attach the job to a scene (e.g. once an import has created it). */
  setScene(sceneId: string): void;
  /**
   * Write the job's success row now, synchronously, so the caller can put it
   * in the same SQLite transaction as the work's own result: a kill can then
   * never leave a stored scene whose import reads as failed.
   */
  recordSuccess(result: Record<string, unknown>, sceneId?: string): void;
  /** Throws StudioError('cancelled') when the job was cancelled. */
  throwIfCancelled(): void;
}

/** A job's own estimate of its time left (JobInfo.timing). */
export interface JobTimeLeft {
  secondsLeft: number | null;
  estimate: StageEstimate;
  /** What secondsLeft runs until when not the job's end (JobTiming.leftUntil). */
  leftUntil?: 'answer';
}

export interface JobSpec {
  kind: JobKind;
  title: string;
  sceneId?: string | null;
  /** Does the work; its return value becomes JobInfo.result. */
  run: (ctx: JobContext) => Promise<Record<string, unknown> | void>;
  /** Log line for success, from the result. */
  describeSuccess?: (result: Record<string, unknown> | null) => string;
}

interface Entry {
  info: JobInfo;
  spec: JobSpec;
  controller: AbortController;
  done: Promise<JobInfo>;
  resolveDone: (job: JobInfo) => void;
  lastEmit: number;
  pendingEmit: ReturnType<typeof setTimeout> | null;
}

export interface JobQueueOptions {
  store: JobPersistence;
  onChange: (job: JobInfo) => void;
  /** Minimum milliseconds between progress events of one job (status changes are never delayed). */
  progressIntervalMs?: number;
}

const isFinished = (job: JobInfo): boolean =>
  job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';

export class JobQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Entry[] = [];
  private running: Entry | null = null;
  private closed = false;
  private readonly progressIntervalMs: number;

  constructor(private readonly options: JobQueueOptions) {
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
  }

  /** Queue a job; it starts when the ones before it have finished. */
  enqueue(spec: JobSpec): JobInfo {
    if (this.closed) {
      throw new StudioError('busy', 'The studio is shutting down.', 'Start the studio again and retry.');
    }
    const info: JobInfo = {
      id: newId('job'),
      kind: spec.kind,
      title: spec.title,
      sceneId: spec.sceneId ?? null,
      status: 'queued',
      progress: 0,
      stage: 'queued',
      message: 'Waiting for other jobs to finish.',
      error: null,
      createdAt: nowIso(),
      finishedAt: null,
      result: null,
    };
    let resolveDone: (job: JobInfo) => void = () => undefined;
    const done = new Promise<JobInfo>((resolve) => (resolveDone = resolve));
    const entry: Entry = {
      info,
      spec,
      controller: new AbortController(),
      done,
      resolveDone,
      lastEmit: 0,
      pendingEmit: null,
    };
    this.entries.set(info.id, entry);
    this.waiting.push(entry);
    this.commit(entry);
    queueMicrotask(() => this.pump());
    return { ...info };
  }

  get(jobId: string): JobInfo | null {
    const entry = this.entries.get(jobId);
    return entry ? { ...entry.info } : this.options.store.get(jobId);
  }

  list(sceneId?: string): JobInfo[] {
    // Live jobs as they are now (with their clock), the rest as stored.
    return this.options.store.list(sceneId).map((job) => {
      const live = this.entries.get(job.id);
      return live ? { ...live.info } : job;
    });
  }

  /** Forget finished jobs (of one scene, or all); running and queued ones stay. */
  forgetFinished(sceneId?: string): number {
    // Finished jobs live only in the store (finish() drops them from `entries`).
    return this.options.store.forgetFinished(sceneId);
  }

  /** Resolves with the final JobInfo (never rejects). */
  wait(jobId: string): Promise<JobInfo> {
    const entry = this.entries.get(jobId);
    if (entry) return entry.done;
    const stored = this.options.store.get(jobId);
    if (!stored) return Promise.reject(notFound(jobId));
    return Promise.resolve(stored);
  }

  /**
   * Cancel a job: a queued one ends at once, a running one is told through its
   * AbortSignal and ends as 'cancelled' when its work stops. A finished job is
   * returned unchanged.
   */
  cancel(jobId: string): JobInfo {
    const entry = this.entries.get(jobId);
    if (!entry) {
      const stored = this.options.store.get(jobId);
      if (!stored) throw notFound(jobId);
      return stored;
    }
    if (isFinished(entry.info)) return { ...entry.info };
    entry.controller.abort(cancelledError(entry.info.title));
    if (entry.info.status === 'queued') {
      const at = this.waiting.indexOf(entry);
      if (at >= 0) this.waiting.splice(at, 1);
      this.finish(entry, 'cancelled', null, null);
    } else {
      entry.info.message = 'Cancelling…';
      this.commit(entry);
    }
    return { ...entry.info };
  }

  /** Cancel everything and wait for the running job to stop. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.waiting]) this.cancel(entry.info.id);
    const running = this.running;
    if (running) {
      this.cancel(running.info.id);
      await running.done;
    }
  }

  private pump(): void {
    if (this.running || this.waiting.length === 0) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    this.running = entry;
    void this.execute(entry).finally(() => {
      this.running = null;
      this.pump();
    });
  }

  private async execute(entry: Entry): Promise<void> {
    const { info, controller } = entry;
    info.status = 'running';
    info.stage = 'starting';
    info.message = `${info.title}…`;
    info.timing = { stageStartedAt: nowIso() };
    this.commit(entry);
    const ctx: JobContext = {
      jobId: info.id,
      signal: controller.signal,
      progress: (progress, stage, timeLeft) => {
        if (isFinished(info)) return;
        const clamped = Number.isFinite(progress) ? Math.min(1, Math.max(0, progress)) : info.progress;
        const stageChanged = stage !== undefined && stage !== info.stage;
        info.progress = clamped;
        if (stage !== undefined) info.stage = stage;
        const stageStartedAt = stageChanged || !info.timing ? nowIso() : info.timing.stageStartedAt;
        info.timing = timeLeft ? { stageStartedAt, ...timeLeft } : { stageStartedAt };
        this.commitThrottled(entry, stageChanged);
      },
      log: (message) => {
        if (isFinished(info)) return;
        info.message = message;
        this.commitThrottled(entry, true);
      },
      setScene: (sceneId) => {
        info.sceneId = sceneId;
        this.commit(entry);
      },
      recordSuccess: (result, sceneId) => {
        const recorded: JobInfo = {
          ...info,
          sceneId: sceneId ?? info.sceneId,
          status: 'succeeded',
          progress: 1,
          stage: 'done',
          result,
          finishedAt: nowIso(),
          message: entry.spec.describeSuccess?.(result) ?? `${info.title}: done.`,
        };
        this.options.store.save(recorded);
      },
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw cancelledError(info.title);
      },
    };
    try {
      const result = (await entry.spec.run(ctx)) ?? null;
      if (controller.signal.aborted) {
        // The work finished but the user had asked to stop: its result stays
        // (it is already stored), the job reads as cancelled only if nothing was produced.
        this.finish(entry, result ? 'succeeded' : 'cancelled', null, result);
      } else {
        this.finish(entry, 'succeeded', null, result);
      }
    } catch (error) {
      const cancelled =
        controller.signal.aborted || (error instanceof StudioError && error.code === 'cancelled');
      this.finish(entry, cancelled ? 'cancelled' : 'failed', cancelled ? null : error, null);
    }
  }

  private finish(
    entry: Entry,
    status: 'succeeded' | 'failed' | 'cancelled',
    error: unknown,
    result: Record<string, unknown> | null,
  ): void {
    const { info } = entry;
    info.status = status;
    info.finishedAt = nowIso();
    // A finished job has no clock (and the stored row never had one).
    delete info.timing;
    info.result = result;
    if (status === 'succeeded') {
      info.progress = 1;
      info.stage = 'done';
      info.message = entry.spec.describeSuccess?.(result) ?? `${info.title}: done.`;
    } else if (status === 'cancelled') {
      info.stage = 'cancelled';
      info.error = cancelledError(info.title).toInfo();
      info.message = `${info.title}: cancelled.`;
    } else {
      const errorInfo = toStudioErrorInfo(error);
      info.error = errorInfo;
      info.message = `${info.title} failed: ${errorInfo.message}`;
    }
    if (entry.pendingEmit) clearTimeout(entry.pendingEmit);
    entry.pendingEmit = null;
    this.commit(entry);
    entry.resolveDone({ ...info });
    // Finished jobs are answered from the store from now on.
    this.entries.delete(info.id);
  }

  /** Persist and emit now. */
  private commit(entry: Entry): void {
    entry.lastEmit = Date.now();
    try {
      this.options.store.save(entry.info);
    } catch {
      // The library may already be closed during shutdown; the event still goes out.
    }
    this.options.onChange({ ...entry.info });
  }

  /** Persist and emit at most every progressIntervalMs; the last update is never lost. */
  private commitThrottled(entry: Entry, urgent: boolean): void {
    const since = Date.now() - entry.lastEmit;
    if (urgent || since >= this.progressIntervalMs) {
      if (entry.pendingEmit) clearTimeout(entry.pendingEmit);
      entry.pendingEmit = null;
      this.commit(entry);
      return;
    }
    if (entry.pendingEmit) return;
    entry.pendingEmit = setTimeout(() => {
      entry.pendingEmit = null;
      if (!isFinished(entry.info)) this.commit(entry);
    }, this.progressIntervalMs - since);
  }
}

function notFound(jobId: string): StudioError {
  return new StudioError(
    'not-found',
    `There is no job ${jobId}.`,
    'List jobs with jobs.list to see their ids.',
  );
}
