// The model manager behind the models.* operations: installs models as jobs
// (download from the hub, or import a local checkpoint folder; both convert
// into the library's models/ folder), removes and activates them, keeps track
// of which queued jobs will use which model, and reports what the model runs on.

import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type {
  JobInfo,
  ModelInfo,
  ModelRemoval,
  ModelRuntimeInfo,
  PrecisionAdvice,
  PrecisionChoice,
} from '../../common/domain';
import { StudioError } from '../../common/errors';
import {
  DEFAULT_REVISION,
  OFFICIAL_REPO_ID,
  availableMemoryBytes,
  checkRepoId,
  precisionAdvice,
} from '../../model';
import { unreadablePathError } from '../ingest/media-kind';
import type { JobQueue } from '../jobs/job-queue';
import type { Library } from '../library/library';
import { downloadModel, importModel, type ModelFolders } from './install-model';
import { ModelUsage } from './model-usage';
import { effectiveProvider, executionProviders } from './runtime-report';

/** Leftovers of a process that died mid-job (temporary folders start with a dot) go after this long. */
const STALE_TEMP_MS = 24 * 3600 * 1000;

export interface ModelManagerOptions {
  library: Library;
  queue: JobQueue;
  providerSetting: 'auto' | 'cpu' | 'webgpu' | 'cuda';
}

function modelNotFound(modelId: string): StudioError {
  return new StudioError(
    'not-found',
    `There is no installed model "${modelId}".`,
    'List the models (models.list / g2studio model list) to see their ids.',
  );
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

const isFinished = (job: JobInfo): boolean =>
  job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';

export class ModelManager {
  readonly folders: ModelFolders;
  private readonly usage = new ModelUsage();
  /** repo@revision of the download jobs queued or running, so one is not started twice. */
  private readonly downloads = new Map<string, string>();

  constructor(private readonly options: ModelManagerOptions) {
    const dir = options.library.location.dir;
    this.folders = { models: join(dir, 'models'), checkpoints: join(dir, 'checkpoints') };
    void this.removeStaleTemporaries();
  }

  list(): ModelInfo[] {
    return this.options.library.models.list();
  }

  /** Queue a download → verify → convert → register job. */
  download(input: { repoId?: string; revision?: string; precision?: PrecisionChoice }): { jobId: string } {
    const repoId = input.repoId ?? OFFICIAL_REPO_ID;
    const revision = input.revision ?? DEFAULT_REVISION;
    checkRepoId(repoId);
    const key = `${repoId.toLowerCase()}@${revision}`;
    const running = this.downloads.get(key);
    if (running) {
      throw new StudioError(
        'busy',
        `${repoId}@${revision} is already being downloaded.`,
        'Wait for that download to finish, or cancel it in the jobs panel.',
      );
    }
    const { library } = this.options;
    const job = this.options.queue.enqueue({
      kind: 'download',
      title: `Download ${repoId}${revision === DEFAULT_REVISION ? '' : `@${revision}`}`,
      run: (ctx) =>
        downloadModel(library, this.folders, { ...input, repoId, revision, advise: this.advise }, ctx),
      describeSuccess: (result) =>
        `Installed ${String(result?.name)} (${String(result?.precision)}) and made it the active model.`,
    });
    this.downloads.set(key, job.id);
    return { jobId: job.id };
  }

  /** Queue a convert → register job for a local checkpoint folder (checked to exist now). */
  async importFolder(input: {
    path: string;
    precision?: PrecisionChoice;
    tokenizer?: string;
    replace?: boolean;
  }): Promise<{ jobId: string }> {
    const path = resolve(input.path);
    const folder = await stat(path).catch((error: unknown) => {
      throw unreadablePathError(path, error);
    });
    if (!folder.isDirectory()) {
      throw new StudioError(
        'unreadable-path',
        `${path} is a file, not a checkpoint folder.`,
        'Choose the folder that holds model.safetensors and the *_config.json files.',
      );
    }
    const { library } = this.options;
    const job = this.options.queue.enqueue({
      kind: 'convert',
      title: `Import model ${path}`,
      run: (ctx) => importModel(library, this.folders, { ...input, path, advise: this.advise }, ctx),
      describeSuccess: (result) =>
        `Installed ${String(result?.name)} (${String(result?.precision)})${result?.active ? ' as the active model' : ''}.`,
    });
    return { jobId: job.id };
  }

  use(modelId: string): ModelInfo {
    const { models } = this.options.library;
    if (!models.activate(modelId)) throw modelNotFound(modelId);
    return models.get(modelId)!;
  }

  /**
   * Unregister a model and delete its folder when the library owns it (a folder
   * registered by path stays where it is). Refused while a queued or running
   * job will use it. When it was active, the newest other model becomes active.
   */
  async remove(modelId: string): Promise<ModelRemoval> {
    const { models } = this.options.library;
    const model = models.get(modelId);
    if (!model) throw modelNotFound(modelId);
    const jobs = this.usage.jobsUsing(modelId);
    if (jobs.length > 0) {
      throw new StudioError(
        'busy',
        `"${model.name}" is in use by ${jobs.length === 1 ? 'a job' : `${jobs.length} jobs`} (${jobs.join(', ')}).`,
        'Wait for the job to finish or cancel it, then remove the model.',
      );
    }
    const inLibrary = this.ownsFolder(model.path);
    // The library's copy under this id goes too, even when the row was re-registered to a folder elsewhere.
    const folders = [
      ...new Set([...(inLibrary ? [resolve(model.path)] : []), join(this.folders.models, modelId)]),
    ];
    const present: string[] = [];
    for (const folder of folders) if (await exists(folder)) present.push(folder);
    // Moved aside first: a folder that cannot be moved (permissions) fails the call before the row goes.
    const doomed: string[] = [];
    try {
      for (const folder of present) {
        const aside = join(this.folders.models, `.removing-${modelId}-${doomed.length}-${Date.now()}`);
        await rename(folder, aside);
        doomed.push(aside);
      }
    } catch (error) {
      for (let i = 0; i < doomed.length; i++) await rename(doomed[i], present[i]).catch(() => undefined);
      throw new StudioError(
        'unreadable-path',
        `Cannot remove the folder of "${model.name}" (${model.path}): ${(error as Error).message}.`,
        'Check the folder is not open in another program and that you may change it, then try again.',
        { cause: error },
      );
    }
    const active = models.remove(modelId);
    for (const folder of doomed) await rm(folder, { recursive: true, force: true });
    return { modelId, deletedFolder: inLibrary && present.includes(resolve(model.path)), active };
  }

  /**
   * What each precision of a checkpoint folder (the official model without
   * one) costs on disk and in memory here, and what `auto` picks: held
   * against GPU memory when the provider setting runs the model on a GPU whose
   * memory is known, else against the free RAM.
   */
  readonly advise = async (checkpointDir: string | undefined): Promise<PrecisionAdvice> => {
    const providers = await executionProviders();
    const provider = effectiveProvider(providers, this.options.providerSetting);
    const gpu = providers.find((p) => p.name === provider && p.name !== 'cpu');
    // A GPU with its own memory is held against it; one sharing the system memory against the free RAM.
    const gpuMemory = gpu?.memoryBytes ?? (gpu?.unifiedMemory ? await availableMemoryBytes() : undefined);
    return gpuMemory
      ? precisionAdvice(checkpointDir, 'gpu', gpuMemory, { float16Compute: gpu?.float16Compute })
      : precisionAdvice(checkpointDir, 'cpu', await availableMemoryBytes());
  };

  /** models.precisions: a local checkpoint folder (checked to be one) or the official model. */
  async precisions(path: string | undefined): Promise<PrecisionAdvice> {
    if (path === undefined) return this.advise(undefined);
    const dir = resolve(path);
    const folder = await stat(dir).catch((error: unknown) => {
      throw unreadablePathError(dir, error);
    });
    if (!folder.isDirectory()) {
      throw new StudioError(
        'unreadable-path',
        `${dir} is a file, not a checkpoint folder.`,
        'Choose the folder that holds model.safetensors and the *_config.json files.',
      );
    }
    return this.advise(dir);
  }

  async runtime(): Promise<ModelRuntimeInfo> {
    const providers = await executionProviders();
    const activeModel = this.options.library.models.active();
    return {
      providers,
      providerSetting: this.options.providerSetting,
      provider: effectiveProvider(providers, this.options.providerSetting),
      activeModel,
      precision: activeModel?.precision ?? null,
    };
  }

  /** Names of the providers a run can use here, preferred first (app.info). */
  async availableProviders(): Promise<string[]> {
    return (await executionProviders()).filter((p) => p.available).map((p) => p.name);
  }

  /**
   * Pin a reconstruct/ask job to its model when it is queued: the one named,
   * else the active one. The job then runs with that model even if another is
   * made active meanwhile, and removing it is refused until the job ends.
   */
  pinModel(requested: string | undefined): string | undefined {
    return requested ?? this.options.library.models.active()?.id;
  }

  trackJob(jobId: string, modelId: string | undefined): void {
    if (modelId) this.usage.use(jobId, modelId);
  }

  /** Every job change passes through here; finished jobs release what they held. */
  onJobChange(job: JobInfo): void {
    if (!isFinished(job)) return;
    this.usage.release(job.id);
    for (const [key, jobId] of this.downloads) if (jobId === job.id) this.downloads.delete(key);
  }

  private ownsFolder(path: string): boolean {
    const rel = relative(this.folders.models, resolve(path));
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.includes(sep);
  }

  private async removeStaleTemporaries(): Promise<void> {
    const names = await readdir(this.folders.models).catch(() => [] as string[]);
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of names.filter((n) => n.startsWith('.'))) {
      const path = join(this.folders.models, name);
      try {
        if ((await stat(path)).mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
      } catch {
        // Another studio on the same library may be cleaning up too.
      }
    }
  }
}
