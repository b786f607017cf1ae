// Downloads a G2VLM checkpoint from the model hub into a folder, the official
// one by default (native-models/catalog.json). The files go to a staging
// folder `<dest>.download` beside the destination, each verified against the
// hub's published hash; the staging folder becomes `<dest>` by one rename once
// every file is in. An interrupted or cancelled download leaves the staging
// folder, and the next call with the same destination resumes it (verified
// files are kept, the partial one continues with an HTTP range request).

import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { StudioError, cancelledError } from '../../common/errors';
import { ensureDir } from '../../base/ensure-dir';
import { modelCatalog } from '../checkpoint/catalog';
import { ensureFreeDiskSpace } from './disk-space';
import { downloadFile } from './file-download';
import {
  DEFAULT_REVISION,
  OFFICIAL_REPO_ID,
  checkRepoId,
  hubAccess,
  resolveFileUrl,
  type HubAccess,
} from './hub-endpoint';
import { fetchRepoListing, type HubFile, type RepoListing } from './hub-listing';

export interface DownloadProgress {
  /** 0..1 over all bytes to fetch. */
  progress: number;
  stage: 'listing' | 'downloading' | 'finishing';
  file: string | null;
  bytesDone: number;
  bytesTotal: number;
}

export interface CheckpointDownloadOptions {
  /** Folder to create; must not exist yet. */
  dest: string;
  repoId?: string;
  revision?: string;
  /** Files to fetch; default: the catalog's files for this repository (required ones must exist). */
  files?: string[];
  /** Hub base URL; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  token?: string | null;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * Space that must stay free beyond the download, given the checkpoint's size
   * (e.g. for converting it afterwards), so the disk check at the start covers the whole job.
   */
  reserveBytes?: (checkpointBytes: number) => number;
  /** Names what needs the space in the disk-full message (default "the download"). */
  spacePurpose?: string;
  maxRetries?: number;
  retryDelayMs?: number;
  stallTimeoutMs?: number;
}

export interface DownloadedFile {
  path: string;
  bytes: number;
  sha256: string;
  /** Byte offsets the requests for this file started at (more than one: it was resumed). */
  resumedFrom: number[];
}

export interface CheckpointDownloadResult {
  dir: string;
  repoId: string;
  revision: string;
  commit: string;
  files: DownloadedFile[];
}

/** Provenance written beside the weights. */
export const DOWNLOAD_RECORD_FILE = 'g2studio-download.json';
const VERIFIED_FILE = '.verified.json';

interface PlannedFile {
  hub: HubFile;
  /** Already verified in the staging folder (from an earlier run). */
  verified: { sha256: string } | null;
}

/** Which files to fetch: explicit list, or the catalog's files for this repository. */
function chooseFiles(listing: RepoListing, explicit: string[] | undefined): HubFile[] {
  const byPath = new Map(listing.files.map((f) => [f.path, f]));
  const missing = (paths: string[]): string[] => paths.filter((p) => !byPath.has(p));
  if (explicit) {
    const absent = missing(explicit);
    if (absent.length > 0) {
      throw new StudioError(
        'not-found',
        `${listing.repoId}@${listing.revision} has no file ${absent.join(', ')}.`,
        'Check the file names against the repository on the model hub.',
      );
    }
    return explicit.map((p) => byPath.get(p)!);
  }
  // Every G2VLM checkpoint has the official layout: the catalog entry of this
  // repository, or the official entry's file list for any other repository.
  const catalog = modelCatalog().models;
  const entry = catalog.find((m) => m.hubId.toLowerCase() === listing.repoId.toLowerCase()) ?? catalog[0];
  const wanted = entry.entry.files.map((f) =>
    // Sharded repositories have an index instead of model.safetensors (checked below).
    f.path === 'model.safetensors' ? { ...f, required: false } : f,
  );
  const absentRequired = missing(wanted.filter((f) => f.required).map((f) => f.path));
  if (absentRequired.length > 0) {
    throw new StudioError(
      'model-missing',
      `${listing.repoId}@${listing.revision} lacks ${absentRequired.join(', ')}: it is not a G2VLM checkpoint.`,
      'Check the repository id and revision.',
    );
  }
  const chosen = wanted.filter((f) => byPath.has(f.path)).map((f) => byPath.get(f.path)!);
  // Sharded weights: the index names the shards; fetch every *.safetensors the revision holds.
  if (!byPath.has('model.safetensors')) {
    for (const f of listing.files)
      if (/\.safetensors(\.index\.json)?$/.test(f.path) && !chosen.includes(f)) chosen.push(f);
  }
  // g2vlm_*.json files carry the special token ids of non-standard vocabularies (checkpoint/config.ts).
  for (const f of listing.files)
    if (/^g2vlm_[^/]*\.json$/.test(f.path) && !chosen.includes(f)) chosen.push(f);
  if (!chosen.some((f) => f.path.endsWith('.safetensors'))) {
    throw new StudioError(
      'model-missing',
      `${listing.repoId}@${listing.revision} has no safetensors weights.`,
      'Check the repository id and revision.',
    );
  }
  return chosen;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function sizeOf(path: string): Promise<number> {
  return (await fs.stat(path).catch(() => null))?.size ?? 0;
}

/**
 * Download a checkpoint. Throws StudioError: 'invalid-input' (dest exists, bad
 * repo id), 'not-found' / 'unauthorized' (hub), 'model-corrupt' (hash
 * mismatch; that file is deleted), 'disk-full', 'internal' (network),
 * 'cancelled'. Progress is reported in bytes over all files.
 */
export async function downloadCheckpoint(opts: CheckpointDownloadOptions): Promise<CheckpointDownloadResult> {
  const repoId = opts.repoId ?? OFFICIAL_REPO_ID;
  const revision = opts.revision ?? DEFAULT_REVISION;
  checkRepoId(repoId);
  const hub: HubAccess = hubAccess({ endpoint: opts.endpoint, token: opts.token });
  const { dest, signal } = opts;
  if (await fs.stat(dest).catch(() => null)) {
    throw new StudioError(
      'invalid-input',
      `${dest} already exists.`,
      'Choose a new folder for the download, or import the existing folder as a local checkpoint.',
    );
  }
  const report = (p: Omit<DownloadProgress, 'progress'>): void =>
    opts.onProgress?.({ ...p, progress: p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0 });
  report({ stage: 'listing', file: null, bytesDone: 0, bytesTotal: 0 });

  const listing = await fetchRepoListing(hub, repoId, revision, signal);
  const files = chooseFiles(listing, opts.files);
  const staging = `${dest}.download`;

  // A staging folder from another commit cannot be resumed: its files would mix revisions.
  const verifiedPath = join(staging, VERIFIED_FILE);
  const previous = await readJson<{ commit: string; files: Record<string, string> }>(verifiedPath);
  const verified: Record<string, string> = previous?.commit === listing.commit ? previous.files : {};
  if (previous && previous.commit !== listing.commit) {
    for (const name of await fs.readdir(staging))
      await fs.rm(join(staging, name), { force: true, recursive: true });
  }

  // Small files first: a broken repository fails fast, and they stay verified across retries.
  files.sort((a, b) => a.bytes - b.bytes);
  const plan: PlannedFile[] = [];
  let bytesTotal = 0,
    bytesDone = 0,
    bytesToFetch = 0;
  for (const file of files) {
    const local = join(staging, file.path);
    const size = await sizeOf(local);
    const ok = verified[file.path] !== undefined && size === file.bytes;
    plan.push({ hub: file, verified: ok ? { sha256: verified[file.path] } : null });
    bytesTotal += Math.max(0, file.bytes);
    if (ok) bytesDone += file.bytes;
    else bytesToFetch += Math.max(0, file.bytes - (await sizeOf(`${local}.part`)));
  }
  // Checked before anything is created, so a full disk leaves nothing behind.
  await ensureFreeDiskSpace(
    staging,
    bytesToFetch + (opts.reserveBytes?.(bytesTotal) ?? 0),
    opts.spacePurpose,
  );
  ensureDir(dirname(dest));
  ensureDir(staging);
  // Ties any .part file in the staging folder to this commit.
  await fs.writeFile(verifiedPath, JSON.stringify({ commit: listing.commit, files: verified }));

  const done: DownloadedFile[] = [];
  for (const item of plan) {
    if (signal?.aborted) throw cancelledError('The download');
    const { hub: file } = item;
    if (item.verified) {
      done.push({ path: file.path, bytes: file.bytes, sha256: item.verified.sha256, resumedFrom: [] });
      continue;
    }
    const target = join(staging, file.path);
    ensureDir(dirname(target));
    const base = bytesDone;
    const got = await downloadFile({
      hub,
      url: resolveFileUrl(hub, repoId, listing.commit, file.path),
      file,
      target,
      signal,
      maxRetries: opts.maxRetries,
      retryDelayMs: opts.retryDelayMs,
      stallTimeoutMs: opts.stallTimeoutMs,
      onBytes: (onDisk) =>
        report({ stage: 'downloading', file: file.path, bytesDone: base + onDisk, bytesTotal }),
    });
    bytesDone += got.bytes;
    verified[file.path] = got.sha256;
    await fs.writeFile(verifiedPath, JSON.stringify({ commit: listing.commit, files: verified }));
    done.push({ path: file.path, ...got });
  }

  report({ stage: 'finishing', file: null, bytesDone, bytesTotal });
  if (signal?.aborted) throw cancelledError('The download');
  await fs.writeFile(
    join(staging, DOWNLOAD_RECORD_FILE),
    JSON.stringify(
      {
        repoId,
        revision,
        commit: listing.commit,
        endpoint: hub.endpoint,
        downloadedAt: new Date().toISOString(),
        files: done.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
      },
      null,
      2,
    ),
  );
  await fs.rm(verifiedPath, { force: true });
  await fs.rename(staging, dest);
  report({ stage: 'finishing', file: null, bytesDone: bytesTotal, bytesTotal });
  return { dir: dest, repoId, revision, commit: listing.commit, files: done };
}

/** The staging folder a cancelled download of `dest` left, if any (to offer "resume" or "discard"). */
export async function pendingDownload(dest: string): Promise<string | null> {
  const staging = `${dest}.download`;
  return (await fs.stat(staging).catch(() => null))?.isDirectory() ? staging : null;
}

/** Delete what a cancelled download of `dest` left behind. */
export async function discardPendingDownload(dest: string): Promise<void> {
  await fs.rm(`${dest}.download`, { recursive: true, force: true });
}
