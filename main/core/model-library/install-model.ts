// The work of the model jobs: get a checkpoint (download it from the hub, or
// take a local folder), check it, convert it into the library's models folder
// and register it. Stages as the job reports them: 'download' (bytes), 'verify',
// 'convert'. Cancelling keeps what can be resumed — the partial download, or
// the finished download while converting — and never leaves a half-written
// model folder (the converter writes to a temporary folder and renames).

import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ModelInfo, ModelPrecision, PrecisionAdvice, PrecisionChoice } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { formatByteSize } from '../../common/format-bytes';
import {
  DEFAULT_REVISION,
  DOWNLOAD_RECORD_FILE,
  OFFICIAL_REPO_ID,
  convertCheckpoint,
  convertedModelId,
  downloadCheckpoint,
  importCheckpointFolder,
  type DownloadProgress,
  type ImportedCheckpoint,
} from '../../model';
import type { JobContext } from '../jobs/job-queue';
import { ensureDir } from '../../base/ensure-dir';
import type { Library } from '../library/library';
import { readModelFolder } from './model-folder';

export interface ModelFolders {
  /** Converted models, one folder per model id. */
  models: string;
  /** Checkpoints being downloaded (and, after a cancelled conversion, downloaded). */
  checkpoints: string;
}

/** Share of the job's progress each stage takes when the job downloads. */
const DOWNLOAD_SHARE = 0.6;
const VERIFY_SHARE = 0.02;
/** The byte counter in the job's message changes at most this often. */
const BYTES_MESSAGE_INTERVAL_MS = 250;

export function checkpointFolderName(repoId: string, revision: string): string {
  return `${repoId.replace('/', '--')}--${revision}`.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The name a model is listed under: the repository's name, with the revision when it is not main. */
function downloadedModelName(repoId: string, revision: string): string {
  const name = repoId.split('/')[1] ?? repoId;
  return revision === DEFAULT_REVISION ? name : `${name}@${revision}`;
}

function downloadMessage(p: DownloadProgress): string {
  const of = `${formatByteSize(p.bytesDone)} of ${formatByteSize(p.bytesTotal)}`;
  if (p.stage === 'listing') return 'Reading the file list from the model hub…';
  if (p.stage === 'finishing')
    return `Downloaded ${formatByteSize(p.bytesTotal)}; every file matches the hub's hash.`;
  return `Downloading ${p.file ?? ''}: ${of}`;
}

/** A checkpoint downloaded in full by an earlier job of the same repository and revision (its conversion was cancelled). */
async function completedDownload(dir: string, repoId: string, revision: string): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(join(dir, DOWNLOAD_RECORD_FILE), 'utf8')) as {
      repoId?: string;
      revision?: string;
    };
    return record.repoId === repoId && record.revision === revision;
  } catch {
    return false;
  }
}

/**
 * Convert a checked checkpoint into `<models>/<model id>` and register it.
 * Progress over [from, 1].
 */
async function convertAndRegister(
  library: Library,
  folders: ModelFolders,
  checkpoint: ImportedCheckpoint,
  opts: {
    precision: ModelPrecision;
    tokenizer?: string;
    name: string;
    activate: boolean;
    from: number;
  },
  ctx: JobContext,
): Promise<ModelInfo> {
  ensureDir(folders.models);
  const incoming = join(folders.models, `.incoming-${ctx.jobId}`);
  const span = 1 - opts.from;
  ctx.log(`Converting to ${opts.precision} ONNX graphs…`);
  ctx.progress(opts.from, 'convert');
  try {
    await convertCheckpoint(checkpoint.dir, incoming, {
      precision: opts.precision,
      tokenizerPath: opts.tokenizer,
      signal: ctx.signal,
      onProgress: (p, stage) => {
        ctx.progress(opts.from + span * Math.min(p, 0.99), 'convert');
        if (stage !== 'done') ctx.log(`Converting: ${stage}`);
      },
    });
    const info = await readModelFolder(incoming);
    const target = join(folders.models, info.id);
    // The same checkpoint at the same precision again: the new folder replaces the old one.
    const replaced = existsSync(target) ? join(folders.models, `.replaced-${ctx.jobId}`) : null;
    if (replaced) await rename(target, replaced);
    await rename(incoming, target);
    if (replaced) await rm(replaced, { recursive: true, force: true });
    return library.models.register({ ...info, path: target, name: opts.name }, { activate: opts.activate });
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}

async function verifyCheckpoint(dir: string, at: number, ctx: JobContext): Promise<ImportedCheckpoint> {
  ctx.log('Checking the checkpoint: configs, every tensor and its shape…');
  ctx.progress(at, 'verify');
  const checkpoint = await importCheckpointFolder(dir);
  ctx.throwIfCancelled();
  return checkpoint;
}

/** What each precision costs for a checkpoint folder (the official model without one), and `auto`'s pick here. */
export type PrecisionAdvisor = (checkpointDir: string | undefined) => Promise<PrecisionAdvice>;

/**
 * Disk the converted model takes per byte of a bf16 checkpoint (the official
 * release): float32 doubles it, int8/int4 blocks are ~0.64/0.52 of it (measured
 * on the real architecture, docs/precisions.md).
 */
const CONVERTED_PER_CHECKPOINT_BYTE: Record<ModelPrecision, number> = {
  fp32: 2,
  fp16: 1,
  int8: 0.65,
  int4: 0.53,
};

/** The precision a job converts to: the one asked for, or `auto`'s pick (logged with its reason). */
async function resolvePrecision(
  choice: PrecisionChoice | undefined,
  checkpointDir: string | undefined,
  advise: PrecisionAdvisor,
  ctx: JobContext,
): Promise<{ precision: ModelPrecision; reason: string | null }> {
  if (choice !== 'auto') return { precision: choice ?? 'fp32', reason: null };
  const advice = await advise(checkpointDir);
  ctx.log(`Precision auto → ${advice.auto.reason}`);
  return advice.auto;
}

export interface DownloadModelInput {
  repoId?: string;
  revision?: string;
  precision?: PrecisionChoice;
  /** Decides `auto` (the model manager passes what this machine has). */
  advise: PrecisionAdvisor;
}

/** models.download: hub → verified checkpoint → converted model, registered and active. */
export async function downloadModel(
  library: Library,
  folders: ModelFolders,
  input: DownloadModelInput,
  ctx: JobContext,
): Promise<Record<string, unknown>> {
  const repoId = input.repoId ?? OFFICIAL_REPO_ID;
  const revision = input.revision ?? DEFAULT_REVISION;
  // The official model's configuration is known before downloading; another repository's after.
  let chosen =
    input.precision !== 'auto' || repoId === OFFICIAL_REPO_ID
      ? await resolvePrecision(input.precision, undefined, input.advise, ctx)
      : undefined;
  const dest = join(folders.checkpoints, checkpointFolderName(repoId, revision));
  let downloadedBytes = 0;
  let resumedFromBytes = 0;
  let reused = false;

  if (await completedDownload(dest, repoId, revision)) {
    reused = true;
    ctx.log('Using the checkpoint downloaded before (its conversion had not finished).');
    ctx.progress(DOWNLOAD_SHARE, 'download');
  } else {
    // Only an unrecorded leftover can be here (downloads appear by one rename, record included).
    await rm(dest, { recursive: true, force: true });
    ctx.log(`Downloading ${repoId}@${revision} from the model hub…`);
    ctx.progress(0, 'download');
    let lastMessage = 0;
    let lastFile: string | null = null;
    const result = await downloadCheckpoint({
      dest,
      repoId,
      revision,
      signal: ctx.signal,
      // Not decided yet (`auto` for another repository): plan for fp16, the size of a bf16 release.
      reserveBytes: (checkpointBytes) =>
        Math.ceil(checkpointBytes * CONVERTED_PER_CHECKPOINT_BYTE[chosen?.precision ?? 'fp16']),
      spacePurpose: 'downloading and converting the model',
      onProgress: (p) => {
        // The line first, so the progress event that follows carries it.
        const now = Date.now();
        if (
          p.stage !== 'downloading' ||
          p.file !== lastFile ||
          now - lastMessage >= BYTES_MESSAGE_INTERVAL_MS
        ) {
          lastMessage = now;
          lastFile = p.file;
          ctx.log(downloadMessage(p));
        }
        ctx.progress(p.progress * DOWNLOAD_SHARE, 'download');
      },
    });
    downloadedBytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
    resumedFromBytes = result.files.reduce((sum, f) => sum + (f.resumedFrom[0] ?? 0), 0);
  }

  const checkpoint = await verifyCheckpoint(dest, DOWNLOAD_SHARE, ctx);
  chosen ??= await resolvePrecision('auto', dest, input.advise, ctx);
  const model = await convertAndRegister(
    library,
    folders,
    checkpoint,
    {
      precision: chosen.precision,
      name: downloadedModelName(repoId, revision),
      activate: true,
      from: DOWNLOAD_SHARE + VERIFY_SHARE,
    },
    ctx,
  );
  // The model folder is self-contained (graphs, weights, tokenizer): the checkpoint would only double the disk use.
  await rm(dest, { recursive: true, force: true });
  return {
    modelId: model.id,
    name: model.name,
    precision: model.precision,
    precisionReason: chosen.reason,
    path: model.path,
    repoId,
    revision,
    commit: checkpoint.download?.commit ?? null,
    downloadedBytes,
    resumedFromBytes,
    reusedDownload: reused,
  };
}

export interface ImportModelInput {
  path: string;
  precision?: PrecisionChoice;
  /** Decides `auto` (the model manager passes what this machine has). */
  advise: PrecisionAdvisor;
  tokenizer?: string;
  /** Replace an installed model with the same id; without it a re-import is refused before converting. */
  replace?: boolean;
}

/** models.import: a local checkpoint folder → converted model, registered (active when none is). */
export async function importModel(
  library: Library,
  folders: ModelFolders,
  input: ImportModelInput,
  ctx: JobContext,
): Promise<Record<string, unknown>> {
  const dir = resolve(input.path);
  const checkpoint = await verifyCheckpoint(dir, 0, ctx);
  const { precision, reason: precisionReason } = await resolvePrecision(
    input.precision,
    dir,
    input.advise,
    ctx,
  );
  if (!input.replace) {
    // Asked before converting: a real checkpoint takes minutes to convert.
    const id = await convertedModelId(dir, precision);
    const installed = library.models.get(id);
    if (installed) {
      throw new StudioError(
        'already-installed',
        `This checkpoint is already installed at ${precision} as "${installed.name}" (${id}).`,
        'Import it again and choose Replace, or remove the installed model first.',
      );
    }
  }
  const model = await convertAndRegister(
    library,
    folders,
    checkpoint,
    {
      precision,
      tokenizer: input.tokenizer ? resolve(input.tokenizer) : undefined,
      name: basename(dir),
      activate: false,
      from: VERIFY_SHARE,
    },
    ctx,
  );
  return {
    modelId: model.id,
    name: model.name,
    precision: model.precision,
    precisionReason,
    path: model.path,
    source: dir,
    active: model.active,
  };
}
