// The file listing of one repository revision, with the hashes the hub
// publishes: LFS files carry their sha256 (siblings[].lfs.sha256), every file
// its git blob id (sha1 over "blob <size>\0" + content). The listing also gives
// the commit the revision points at; downloads are pinned to that commit so a
// branch that moves mid-download cannot mix files of two commits.

import { z } from 'zod';
import { StudioError, cancelledError } from '../../common/errors';
import { authHeaders, checkRepoId, hubRequestError, revisionInfoUrl, type HubAccess } from './hub-endpoint';

const sha1 = z.string().regex(/^[0-9a-f]{40}$/);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const revisionSchema = z.object({
  sha: sha1,
  siblings: z.array(
    z.object({
      rfilename: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      blobId: sha1.optional(),
      lfs: z.object({ sha256, size: z.number().int().nonnegative() }).optional().nullable(),
    }),
  ),
});

export interface HubFile {
  path: string;
  bytes: number;
  /** sha256 of the content, published for LFS files; null for small git files. */
  sha256: string | null;
  /** git blob sha1 of the content (what the ETag of a small file is). */
  gitBlobSha1: string | null;
}

export interface RepoListing {
  repoId: string;
  revision: string;
  commit: string;
  files: HubFile[];
}

export async function fetchRepoListing(
  hub: HubAccess,
  repoId: string,
  revision: string,
  signal?: AbortSignal,
): Promise<RepoListing> {
  checkRepoId(repoId);
  const url = revisionInfoUrl(hub, repoId, revision);
  const what = `repository ${repoId} at revision "${revision}"`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json', ...authHeaders(hub) }, signal });
  } catch (error) {
    if (signal?.aborted) throw cancelledError('The download');
    throw hubRequestError(what, url, error);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw hubRequestError(what, url, null, response.status);
  }
  const parsed = revisionSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) {
    throw new StudioError(
      'internal',
      `The model hub's file listing for ${repoId} is not in the expected form.`,
      'Check HF_ENDPOINT points at a Hugging Face compatible hub.',
    );
  }
  return {
    repoId,
    revision,
    commit: parsed.data.sha,
    files: parsed.data.siblings.map((s) => ({
      path: s.rfilename,
      bytes: s.lfs?.size ?? s.size ?? -1,
      sha256: s.lfs?.sha256 ?? null,
      gitBlobSha1: s.lfs ? null : (s.blobId ?? null),
    })),
  };
}
