// One file from the hub into `<target>.part`, resumable and verified.
//
// Resume: bytes already in the .part file are kept; the request asks for the
// rest with `Range: bytes=<have>-`. A 206 whose Content-Range starts there is
// appended; a 200 (server ignores ranges) restarts from zero. A connection that
// drops mid-body is retried the same way, with a short back-off, as long as
// each attempt makes progress.
// Verify: the content is hashed while it is written (the kept prefix is hashed
// first) and compared with the hash the hub published: sha256 for LFS files,
// the git blob sha1 for small files. A mismatch deletes the .part file, so a
// corrupt transfer never resumes into a corrupt file.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { StudioError, cancelledError } from '../../common/errors';
import { authHeaders, hubRequestError, normaliseEtag, type HubAccess } from './hub-endpoint';
import type { HubFile } from './hub-listing';

export interface FileDownloadOptions {
  hub: HubAccess;
  /** resolve URL of the file at the pinned commit. */
  url: string;
  file: HubFile;
  /** Final path; the transfer goes to `${target}.part` and is renamed once verified. */
  target: string;
  signal?: AbortSignal;
  /** Bytes of this file on disk so far (called often; cheap). */
  onBytes?: (bytesOnDisk: number) => void;
  /** Attempts without progress before giving up (default 5). */
  maxRetries?: number;
  /** A stalled connection (no bytes for this long) counts as dropped (default 60 s). */
  stallTimeoutMs?: number;
  /** Back-off between retries, first step (default 500 ms, doubling). */
  retryDelayMs?: number;
}

export interface FileDownloadReport {
  bytes: number;
  sha256: string;
  /** Requests made, and the byte offsets they resumed from (0 = from the start). */
  resumedFrom: number[];
}

class DroppedTransfer extends Error {}

function hasherFor(file: HubFile): { sha256: Hash; gitSha1: Hash | null } {
  const gitSha1 =
    file.gitBlobSha1 && file.bytes >= 0 ? createHash('sha1').update(`blob ${file.bytes}\0`) : null;
  return { sha256: createHash('sha256'), gitSha1 };
}

async function hashPrefix(
  path: string,
  bytes: number,
  hashes: { sha256: Hash; gitSha1: Hash | null },
): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 << 20 })) {
    hashes.sha256.update(chunk as Buffer);
    hashes.gitSha1?.update(chunk as Buffer);
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** First hop at the hub (redirects not followed) so its X-Linked-* headers can be read. */
async function hubHop(
  opts: FileDownloadOptions,
  signal: AbortSignal,
): Promise<{ location: string; linkedSha256: string | null; response: Response | null }> {
  const { hub, url } = opts;
  const response = await fetch(url, {
    headers: { ...authHeaders(hub), 'accept-encoding': 'identity' },
    redirect: 'manual',
    signal,
  });
  const linked = normaliseEtag(response.headers.get('x-linked-etag'));
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (!location) throw hubRequestError(`file ${opts.file.path}`, url, null, response.status);
    return { location: new URL(location, url).toString(), linkedSha256: linked, response: null };
  }
  return { location: url, linkedSha256: linked, response };
}

/** Downloads and verifies one file; returns once `target` holds the verified content. */
export async function downloadFile(opts: FileDownloadOptions): Promise<FileDownloadReport> {
  const { file, target, signal } = opts;
  const part = `${target}.part`;
  const maxRetries = opts.maxRetries ?? 5;
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  const what = `file ${file.path}`;
  let have = (await stat(part).catch(() => null))?.size ?? 0;
  if (file.bytes >= 0 && have > file.bytes) {
    await rm(part, { force: true });
    have = 0;
  }
  const hashes = hasherFor(file);
  await hashPrefix(part, have, hashes);
  opts.onBytes?.(have);
  const resumedFrom: number[] = [];
  let failures = 0;
  let delay = opts.retryDelayMs ?? 500;

  while (file.bytes < 0 || have < file.bytes || resumedFrom.length === 0) {
    if (signal?.aborted) throw cancelledError('The download');
    if (file.bytes >= 0 && have === file.bytes) break; // nothing left to fetch (a resumed complete .part)
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let stall: NodeJS.Timeout | null = null;
    const armStall = (): void => {
      if (stall) clearTimeout(stall);
      stall = setTimeout(() => attempt.abort(new DroppedTransfer('stalled')), stallMs);
    };
    const before = have;
    resumedFrom.push(have);
    const handle = await open(part, have > 0 ? 'r+' : 'w');
    try {
      armStall();
      const hop = await hubHop(opts, attempt.signal);
      if (file.sha256 && hop.linkedSha256 && hop.linkedSha256 !== file.sha256) {
        throw new StudioError(
          'model-corrupt',
          `The model hub lists ${file.path} with sha256 ${file.sha256} but serves one with ${hop.linkedSha256}.`,
          'The repository changed during the download: start it again.',
        );
      }
      let response = hop.response;
      const rangeHeaders: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
      if (!response || have > 0) {
        await response?.body?.cancel();
        // The CDN gets no Authorization header: its URL is already signed (as huggingface_hub does).
        const sameOrigin = new URL(hop.location).origin === new URL(opts.url).origin;
        response = await fetch(hop.location, {
          headers: {
            ...(sameOrigin ? authHeaders(opts.hub) : {}),
            'accept-encoding': 'identity',
            ...rangeHeaders,
          },
          signal: attempt.signal,
        });
      }
      if (response.status === 416 && file.bytes >= 0 && have === file.bytes) {
        await response.body?.cancel();
        break;
      }
      if (response.status === 200 && have > 0) {
        // The server ignored the range: start over.
        await handle.truncate(0);
        have = 0;
        const fresh = hasherFor(file);
        hashes.sha256 = fresh.sha256;
        hashes.gitSha1 = fresh.gitSha1;
      } else if (response.status === 206) {
        const start = Number(/^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1]);
        if (start !== have) throw new DroppedTransfer(`range answer starts at ${start}, asked ${have}`);
      } else if (response.status !== 200) {
        await response.body?.cancel();
        throw hubRequestError(what, opts.url, null, response.status);
      }
      if (!response.body) throw new DroppedTransfer('no body');
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        armStall();
        await writeAt(handle, chunk, have);
        hashes.sha256.update(chunk);
        hashes.gitSha1?.update(chunk);
        have += chunk.length;
        opts.onBytes?.(have);
        if (file.bytes >= 0 && have > file.bytes) break;
      }
      if (file.bytes < 0) break;
      if (have < file.bytes) throw new DroppedTransfer(`ended at ${have} of ${file.bytes} bytes`);
    } catch (error) {
      if (signal?.aborted) throw cancelledError('The download');
      if (error instanceof StudioError && error.code !== 'internal') throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new StudioError(
          'disk-full',
          `The disk filled up while downloading ${file.path}.`,
          'Free some disk space and start the download again; it resumes where it stopped.',
        );
      }
      const dropped =
        error instanceof DroppedTransfer ||
        attempt.signal.reason instanceof DroppedTransfer ||
        error instanceof TypeError || // undici: "terminated" / "fetch failed"
        (error as NodeJS.ErrnoException).code === 'ECONNRESET';
      if (!dropped) throw error;
      failures = have > before ? 0 : failures + 1;
      if (failures > maxRetries) {
        throw error instanceof StudioError ? error : hubRequestError(what, opts.url, error);
      }
      await sleep(have > before ? 0 : delay, signal);
      if (have === before) delay *= 2;
      continue;
    } finally {
      if (stall) clearTimeout(stall);
      signal?.removeEventListener('abort', onAbort);
      await handle.close();
    }
  }

  const sha256 = hashes.sha256.digest('hex');
  const gitSha1 = hashes.gitSha1?.digest('hex') ?? null;
  const sizeWrong = file.bytes >= 0 && have !== file.bytes;
  const hashWrong =
    (file.sha256 && sha256 !== file.sha256) || (file.gitBlobSha1 && gitSha1 !== file.gitBlobSha1);
  if (sizeWrong || hashWrong) {
    await rm(part, { force: true });
    throw new StudioError(
      'model-corrupt',
      sizeWrong
        ? `${file.path} arrived with ${have} bytes; the model hub lists ${file.bytes}.`
        : `${file.path} arrived corrupted: its ${file.sha256 ? 'sha256' : 'git hash'} does not match the one the model hub publishes.`,
      'Download the model again; the damaged file was deleted.',
    );
  }
  await rename(part, target);
  return { bytes: have, sha256, resumedFrom };
}

async function writeAt(
  handle: import('node:fs/promises').FileHandle,
  chunk: Uint8Array,
  position: number,
): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, position + written);
    written += bytesWritten;
  }
}
