// The studio core: implements StudioService (main/core/studio-service.ts) for
// every operation of the API contract (main/common/api.ts). This file is the
// wiring: the library, the job queue, the model manager, the lazily started
// engine and ffmpeg, and the handler groups (main/core/handlers/), one per area.
// Inputs are validated here with each operation's schema; every error that
// leaves is a StudioError. Plain Node: the CLI, the web server and the Electron
// shell all sit on top of this.

import { join } from 'node:path';
import {
  api,
  isOperationName,
  type OperationInput,
  type OperationName,
  type OperationResult,
} from '../common/api';
import type { FfmpegInfo, JobInfo, StudioEvent } from '../common/domain';
import { StudioError, toStudioErrorInfo } from '../common/errors';
import { EXPORT_MAX_AGE_MS } from '../common/export-lifetime';
import type { FolderUploadLimits } from '../common/folder-upload';
import { startEngine } from '../model';
import { SceneEditor } from './editing/scene-editor';
import { blobOpener } from './handlers/blob-handlers';
import { editHandlers } from './handlers/edit-handlers';
import { exportHandlers } from './handlers/export-handlers';
import { frameHandlers } from './handlers/frame-handlers';
import type { HandlerContext, Handlers } from './handlers/handler-context';
import { jobHandlers } from './handlers/job-handlers';
import { modelHandlers } from './handlers/model-handlers';
import { qaHandlers } from './handlers/qa-handlers';
import { sceneHandlers } from './handlers/scene-handlers';
import { uploadHandlers } from './handlers/upload-handlers';
import { locateFfmpeg } from './ingest/ffmpeg-locator';
import { JobQueue } from './jobs/job-queue';
import { sceneNotFound } from './jobs/reconstruct-scene';
import type { Engine, StudioContext } from './jobs/studio-context';
import { removeExpiredExports } from './library/export-files';
import { Library } from './library/library';
import { ModelManager } from './model-library/model-manager';
import type { StudioService } from './studio-service';
import { TRANSIENT_FILE_MAX_AGE_MS, Uploads, removeOlderThan } from './uploads';

export type { Engine } from './jobs/studio-context';

export interface StudioOptions {
  /** Library folder (or its .sqlite file); see settings.resolveLibraryPath. */
  libraryPath: string;
  mode: 'electron' | 'web' | 'cli';
  /** The model engine; defaults to an EngineClient (worker thread) started on first use. */
  engine?: Engine;
  /** ffmpeg binary chosen by the user (setting / --ffmpeg). */
  ffmpegPath?: string;
  /** Frames taken from a video when an import does not say (default 16, fewer for short clips). */
  defaultFrameCount?: number;
  executionProvider?: 'cpu' | 'cuda' | 'webgpu' | 'auto';
  /** Minimum ms between progress events of one job (default 100: ~10/s). */
  progressIntervalMs?: number;
  /** Bounds of one folder upload (web mode); default FOLDER_UPLOAD_LIMITS. */
  folderUploadLimits?: FolderUploadLimits;
}

/** The studio service plus what in-process front doors (CLI, tests) may use directly. */
export interface Studio extends StudioService {
  readonly library: Library;
  /** The same call, typed by the contract: what the CLI and tests use in-process. */
  run<N extends OperationName>(name: N, input: OperationInput<N>): Promise<OperationResult<N>>;
  /** Resolves with the job's final state. */
  waitForJob(jobId: string): Promise<JobInfo>;
}

function invalidInput(
  name: string,
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): StudioError {
  const details = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : 'input'}: ${issue.message}`)
    .join('; ');
  return new StudioError(
    'invalid-input',
    `Invalid input for ${name}: ${details}.`,
    'Check the values you passed against the operation (see main/common/api.ts).',
  );
}

const isFinished = (job: JobInfo): boolean =>
  job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';

export async function createStudio(options: StudioOptions): Promise<Studio> {
  const library = Library.open(options.libraryPath);
  const listeners = new Set<(event: StudioEvent) => void>();
  const emit = (event: StudioEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A front door's listener failing must not stop the others or the job.
      }
    }
  };
  const jobWaiters = new Map<string, Array<(job: JobInfo) => void>>();
  const queue = new JobQueue({
    store: library.jobs,
    progressIntervalMs: options.progressIntervalMs,
    onChange: (job) => {
      models.onJobChange(job);
      emit({ type: 'job', job });
      if (isFinished(job)) {
        const waiters = jobWaiters.get(job.id);
        jobWaiters.delete(job.id);
        waiters?.forEach((resolve) => resolve(job));
      }
    },
  });
  const models = new ModelManager({ library, queue, providerSetting: options.executionProvider ?? 'auto' });

  let enginePromise: Promise<Engine> | null = options.engine ? Promise.resolve(options.engine) : null;
  const engine = (): Promise<Engine> => {
    enginePromise ??= startEngine().then((client) => client as Engine);
    return enginePromise;
  };
  let ffmpegPromise: Promise<FfmpegInfo> | null = null;
  const ffmpeg = (): Promise<FfmpegInfo> => {
    // The locator itself reads G2STUDIO_FFMPEG (and reports it as the source).
    const located = (ffmpegPromise ??= locateFfmpeg({ ffmpegPath: options.ffmpegPath }));
    // A failed lookup is retried next time (the user may install ffmpeg meanwhile).
    located.catch(() => (ffmpegPromise = null));
    return located;
  };

  const jobs: StudioContext = {
    library,
    engine,
    ffmpeg,
    emit,
    defaultFrameCount: options.defaultFrameCount ?? 16,
    executionProvider: options.executionProvider ?? 'auto',
  };

  void removeOlderThan(join(library.location.dir, 'uploads'), TRANSIENT_FILE_MAX_AGE_MS);
  // Exports nobody downloaded go after EXPORT_MAX_AGE_MS: now and every hour while the studio runs.
  const exportsDir = join(library.location.dir, 'exports');
  void removeExpiredExports(exportsDir, EXPORT_MAX_AGE_MS);
  const exportSweep = setInterval(() => void removeExpiredExports(exportsDir, EXPORT_MAX_AGE_MS), 3600_000);
  exportSweep.unref();

  const context: HandlerContext = {
    library,
    queue,
    models,
    editor: new SceneEditor(library),
    uploads: new Uploads(() => library.uploadsDir, options.folderUploadLimits),
    jobs,
    emit,
    ffmpeg,
    mode: options.mode,
    requireScene(sceneId) {
      const summary = library.scenes.summary(sceneId);
      if (!summary) throw sceneNotFound(sceneId);
      return summary;
    },
  };
  const handlers: Handlers = {
    ...modelHandlers(context),
    ...sceneHandlers(context),
    ...frameHandlers(context),
    ...exportHandlers(context),
    ...editHandlers(context),
    ...jobHandlers(context),
    ...qaHandlers(context),
    ...uploadHandlers(context),
  };

  let closed = false;
  const call = async (name: string, input: unknown): Promise<unknown> => {
    if (closed) throw new StudioError('busy', 'The studio is closed.', 'Start the studio again.');
    if (!isOperationName(name)) {
      throw new StudioError(
        'not-found',
        `There is no operation "${name}".`,
        'See main/common/api.ts for the operations.',
      );
    }
    const parsed = api[name].input.safeParse(input ?? {});
    if (!parsed.success) throw invalidInput(name, parsed.error.issues);
    const handler = handlers[name] as (input: unknown) => Promise<unknown>;
    try {
      return await handler(parsed.data);
    } catch (error) {
      if (error instanceof StudioError) throw error;
      const info = toStudioErrorInfo(error);
      throw new StudioError(info.code, info.message, info.fix, { cause: error });
    }
  };

  return {
    library,
    call,
    run: (name, input) => call(name, input) as Promise<OperationResult<typeof name>>,

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    openBlob: blobOpener(context),
    saveUpload: (fileName, body) => context.uploads.save(fileName, body),
    saveFolderUploadFile: (uploadId, path, body) => context.uploads.saveFolderFile(uploadId, path, body),

    waitForJob(jobId: string): Promise<JobInfo> {
      const job = queue.get(jobId);
      if (!job) {
        return Promise.reject(
          new StudioError('not-found', `There is no job ${jobId}.`, 'List jobs to see their ids.'),
        );
      }
      if (isFinished(job)) return Promise.resolve(job);
      return new Promise((resolve) => {
        const waiters = jobWaiters.get(jobId) ?? [];
        waiters.push(resolve);
        jobWaiters.set(jobId, waiters);
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(exportSweep);
      await queue.close();
      await context.uploads.close();
      if (enginePromise) await (await enginePromise.catch(() => null))?.close();
      listeners.clear();
      library.close();
    },
  };
}
