// Importing a folder (a COLMAP project, a transforms.json capture, a folder
// of photos) from the "Import folder…" button or a drop. Web mode: the files
// the import needs are found (folder-upload-plan.ts), checked against the
// upload bounds, uploaded with progress and a Cancel, then imported. Electron:
// the folder's path goes to the core, which reads it in place.

import { useCallback, useRef, useState } from 'react';
import type { PickedFolder } from '../../../main/common/api';
import { formatByteSize } from '../../../main/common/format-bytes';
import type { StudioClient } from '../api/client';
import { useStudio } from '../common/studio-context';
import { planFolderUpload } from './folder-upload-plan';

export interface FolderUpload {
  key: number;
  name: string;
  /** What the folder was found to hold ("COLMAP model (text, sparse/0) · 8 images"); null while looking. */
  summary: string | null;
  sentBytes: number;
  totalBytes: number;
}

/** Upload (web) or locate (Electron) one folder and start its import; resolves to the job id. */
export async function importFolder(
  client: StudioClient,
  folder: PickedFolder,
  options: {
    signal?: AbortSignal;
    onPlanned?(summary: string, totalBytes: number): void;
    onProgress?(sentBytes: number, totalBytes: number): void;
  } = {},
): Promise<string> {
  let send = folder;
  if (client.mode === 'web') {
    const plan = await planFolderUpload(folder);
    options.onPlanned?.(plan.summary, plan.totalBytes);
    send = plan.folder;
  }
  const source = await client.importSourceForFolder(send, {
    signal: options.signal,
    onProgress: options.onProgress,
  });
  if (options.signal?.aborted) {
    // Cancelled just as the last file arrived: what was sent goes, nothing is imported.
    if (source.kind === 'upload') await client.call('uploads.discard', { uploadId: source.uploadId });
    options.signal.throwIfAborted();
  }
  const { jobId } = await client.call('scenes.import', { sources: [source] });
  return jobId;
}

/** The folder imports under way, and how to start one. */
export function useFolderImports(): {
  uploads: FolderUpload[];
  importFolders(folders: PickedFolder[]): void;
  cancel(key: number): void;
} {
  const { client, showError } = useStudio();
  const [uploads, setUploads] = useState<FolderUpload[]>([]);
  const controllers = useRef(new Map<number, AbortController>());
  const nextKey = useRef(1);

  const update = useCallback((key: number, change: Partial<FolderUpload>) => {
    setUploads((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const importFolders = useCallback(
    (folders: PickedFolder[]) => {
      for (const folder of folders) {
        const key = nextKey.current++;
        const controller = new AbortController();
        controllers.current.set(key, controller);
        setUploads((list) => [
          ...list,
          { key, name: folder.name, summary: null, sentBytes: 0, totalBytes: 0 },
        ]);
        importFolder(client, folder, {
          signal: controller.signal,
          onPlanned: (summary, totalBytes) => update(key, { summary, totalBytes }),
          onProgress: (sentBytes, totalBytes) => update(key, { sentBytes, totalBytes }),
        })
          .catch((error: unknown) => {
            // A cancel is the user's own doing, not an error to show.
            if (!controller.signal.aborted) showError(error);
          })
          .finally(() => {
            controllers.current.delete(key);
            setUploads((list) => list.filter((item) => item.key !== key));
          });
      }
    },
    [client, showError, update],
  );

  const cancel = useCallback((key: number) => controllers.current.get(key)?.abort(), []);
  return { uploads, importFolders, cancel };
}

/** One line per folder upload in the top bar: what it is, how far, and Cancel. */
export function FolderUploadStatus({
  uploads,
  onCancel,
}: {
  uploads: FolderUpload[];
  onCancel(key: number): void;
}) {
  return (
    <>
      {uploads.map((upload) => {
        const percent = upload.totalBytes > 0 ? Math.floor((100 * upload.sentBytes) / upload.totalBytes) : 0;
        const text =
          upload.summary === null
            ? `Reading ${upload.name}…`
            : `Uploading ${upload.name} — ${upload.summary}: ${percent} % of ${formatByteSize(upload.totalBytes)}`;
        return (
          <span
            key={upload.key}
            className="topbar-status folder-upload"
            data-testid="folder-upload"
            data-sent={upload.sentBytes}
            data-total={upload.totalBytes}
          >
            <span data-testid="folder-upload-text" title={text}>
              {text}
            </span>
            <progress max={100} value={percent} aria-label={`Upload of ${upload.name}`} />
            <button
              className="small-button"
              onClick={() => onCancel(upload.key)}
              data-testid="folder-upload-cancel"
            >
              Cancel
            </button>
          </span>
        );
      })}
    </>
  );
}
