// Where the model hub lives and how its URLs are built. Follows the Hugging Face
// hub layout and the huggingface_hub client's conventions: the base URL comes
// from HF_ENDPOINT (so a mirror, or a test server on 127.0.0.1, can stand in),
// a token from HF_TOKEN for gated repositories.
//   file listing:  GET  {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
//   file content:  GET  {endpoint}/{repo}/resolve/{revision}/{path}
// Large (LFS) files answer the resolve URL with a redirect to a CDN and the
// headers X-Linked-Etag (the file's sha256), X-Linked-Size and X-Repo-Commit;
// small files are served directly with ETag = their git blob sha1.

import { StudioError } from '../../common/errors';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const OFFICIAL_REPO_ID = 'InternRobotics/G2VLM-2B-MoT';
export const DEFAULT_REVISION = 'main';

const REPO_ID = /^[\w.-]+\/[\w.-]+$/;

export interface HubAccess {
  /** Base URL without a trailing slash. */
  endpoint: string;
  /** Bearer token for gated/private repositories, if any. */
  token: string | null;
}

/** The hub to talk to: explicit values first, then HF_ENDPOINT / HF_TOKEN, then the public hub. */
export function hubAccess(
  opts: { endpoint?: string; token?: string | null } = {},
  env: NodeJS.ProcessEnv = process.env,
): HubAccess {
  const raw = opts.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StudioError(
      'invalid-input',
      `The model hub address "${raw}" is not a URL.`,
      'Set HF_ENDPOINT to an address like https://huggingface.co, or unset it.',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StudioError(
      'invalid-input',
      `The model hub address "${raw}" is not http(s).`,
      'Set HF_ENDPOINT to an http or https address.',
    );
  }
  const token = opts.token !== undefined ? opts.token : (env.HF_TOKEN ?? null);
  return { endpoint: url.toString().replace(/\/+$/, ''), token: token || null };
}

export function checkRepoId(repoId: string): void {
  if (!REPO_ID.test(repoId)) {
    throw new StudioError(
      'invalid-input',
      `"${repoId}" is not a model repository id.`,
      'Use the form owner/name, e.g. InternRobotics/G2VLM-2B-MoT.',
    );
  }
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

export function revisionInfoUrl(hub: HubAccess, repoId: string, revision: string): string {
  return `${hub.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export function resolveFileUrl(hub: HubAccess, repoId: string, revision: string, path: string): string {
  return `${hub.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

export function authHeaders(hub: HubAccess): Record<string, string> {
  return hub.token ? { authorization: `Bearer ${hub.token}` } : {};
}

/** An ETag header value as a bare lowercase hash: drops W/ and quotes. */
export function normaliseEtag(value: string | null): string | null {
  if (!value) return null;
  return value.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase() || null;
}

/** A StudioError for a failed request to the hub. */
export function hubRequestError(what: string, url: string, cause: unknown, status?: number): StudioError {
  if (status === 401 || status === 403)
    return new StudioError(
      'unauthorized',
      `The model hub refused access to ${what} (HTTP ${status}): it is gated, private or does not exist.`,
      'Accept the model licence on the hub and set HF_TOKEN to an access token.',
    );
  if (status === 404)
    return new StudioError(
      'not-found',
      `The model hub has no ${what}.`,
      'Check the repository id and the revision (branch, tag or commit).',
    );
  if (status !== undefined)
    return new StudioError(
      'internal',
      `The model hub answered HTTP ${status} for ${what}.`,
      'Try again later; the download resumes where it stopped.',
    );
  const reason =
    cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
  return new StudioError(
    'internal',
    `Cannot reach the model hub at ${new URL(url).origin} (${reason}).`,
    'Check the internet connection (or HF_ENDPOINT) and try again; the download resumes where it stopped.',
    { cause },
  );
}
