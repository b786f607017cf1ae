// What the front doors (Electron shell, web-mode server, CLI) need from the
// studio core. The core implements it once (main/core/studio.ts); each front door
// only adapts it to its transport.

import type { Readable } from 'node:stream';
import type { StudioEvent } from '../common/domain';

export interface BlobResponse {
  contentType: string;
  /** Whole body for small blobs, a stream for large ones (points of a 10M-point cloud). */
  body: Buffer | Readable;
  bytes: number;
  /** Suggested download file name (exports). */
  fileName?: string;
  /**
   * Called by the transport once the whole body has been sent (never for a
   * HEAD or a download cut short): an export then deletes the studio's copy.
   */
  onDelivered?: () => Promise<void>;
}

export interface StudioService {
  /**
   * Run one operation of the API contract. `input` is untrusted: it is validated
   * against the operation's schema here and a StudioError('invalid-input') is
   * thrown when it does not match. Unknown names throw StudioError('not-found').
   */
  call(name: string, input: unknown): Promise<unknown>;
  /** Job progress, scene changes and Q&A tokens. Returns the unsubscribe function. */
  subscribe(listener: (event: StudioEvent) => void): () => void;
  /** Bulk data for a path from blobPaths; null when it does not exist. */
  openBlob(path: string): Promise<BlobResponse | null>;
  /** Store an uploaded file (web mode drag-and-drop) and return its id for scenes.import. */
  saveUpload(fileName: string, body: Readable): Promise<{ uploadId: string }>;
  /**
   * Store one file of a folder upload announced with uploads.beginFolder:
   * `path` must be one of its announced relative paths, `body` exactly its
   * announced size; refused (typed error, nothing kept) otherwise.
   */
  saveFolderUploadFile(
    uploadId: string,
    path: string,
    body: Readable,
  ): Promise<{ received: number; remaining: number }>;
  /** Finish or cancel running jobs and close the library. */
  close(): Promise<void>;
}
