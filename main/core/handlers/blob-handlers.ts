// Bulk data by route (main/common/api.ts BLOB_ROUTES): stored clouds, the edit
// stack's results, frame images and exports. One function per route; a path
// that matches no route, or names something that is not there, gives null.

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { matchBlobRoute, type BlobRouteName } from '../../common/api';
import { QUALITY_SCORES, type QualityScoreName } from '../../common/edit-stack';
import { isExportId, removeExport } from '../library/export-files';
import type { BlobResponse } from '../studio-service';
import type { HandlerContext } from './handler-context';

const binary = (array: Uint8Array | Float32Array): BlobResponse => {
  const body = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
};

const EXPORT_TYPES: Record<string, string> = { '.glb': 'model/gltf-binary', '.zip': 'application/zip' };

type BlobReader = (params: Record<string, string>) => Promise<BlobResponse | null>;

export function blobReaders({ library, editor }: HandlerContext): Record<BlobRouteName, BlobReader> {
  const hasScene = (sceneId: string): boolean => library.scenes.summary(sceneId) !== null;
  return {
    points: async ({ sceneId }) => {
      if (!hasScene(sceneId)) return null;
      // A scene without a cloud yet serves an empty array: zero points.
      const body = library.scenes.positionsBytes(sceneId) ?? Buffer.alloc(0);
      return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
    },
    colors: async ({ sceneId }) => {
      const summary = library.scenes.summary(sceneId);
      if (!summary) return null;
      const body = library.scenes.colorsBytes(sceneId);
      if (body) return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
      // No colours stored: mid grey for every point, so renderers need no special case.
      return binary(new Uint8Array(summary.pointCount * 3).fill(160));
    },
    editKeep: async ({ sceneId }) => (hasScene(sceneId) ? binary((await editor.result(sceneId)).keep) : null),
    editPoints: async ({ sceneId }) =>
      hasScene(sceneId) ? binary((await editor.result(sceneId)).cloud.positions) : null,
    editColors: async ({ sceneId }) => {
      if (!hasScene(sceneId)) return null;
      const { cloud } = await editor.result(sceneId);
      return binary(cloud.colors ?? new Uint8Array(cloud.count * 3).fill(160));
    },
    editScores: async ({ sceneId, score }) => {
      if (!hasScene(sceneId) || !QUALITY_SCORES.includes(score as QualityScoreName)) return null;
      return binary(await editor.scores(sceneId, score as QualityScoreName));
    },
    frameImage: async ({ frameId }) => {
      const image = library.scenes.frameImage(frameId);
      return image ? { contentType: image.mime, body: image.bytes, bytes: image.bytes.byteLength } : null;
    },
    frameThumb: async ({ frameId }) => {
      const thumb = library.scenes.frameThumbnail(frameId);
      return thumb ? { contentType: 'image/jpeg', body: thumb, bytes: thumb.byteLength } : null;
    },
    export: async ({ exportId }) => {
      if (!isExportId(exportId)) return null;
      const dir = join(library.exportsDir, exportId);
      const names = await readdir(dir).catch(() => [] as string[]);
      const fileName = names.find((n) => !n.startsWith('.') && !n.endsWith('.tmp'));
      if (!fileName) return null;
      const file = join(dir, fileName);
      const { size } = await stat(file);
      const contentType = EXPORT_TYPES[extname(fileName)] ?? 'application/octet-stream';
      return {
        contentType,
        body: createReadStream(file),
        bytes: size,
        fileName,
        // Downloaded: the studio keeps no copy (main/common/export-lifetime.ts).
        onDelivered: () => removeExport(library.exportsDir, exportId),
      };
    },
  };
}

/** The studio's openBlob: the route's reader, or null for a path that is no route. */
export function blobOpener(ctx: HandlerContext): (path: string) => Promise<BlobResponse | null> {
  const readers = blobReaders(ctx);
  return async (path) => {
    const match = matchBlobRoute(path);
    return match ? readers[match.route](match.params) : null;
  };
}
