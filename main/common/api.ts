// The API contract: every operation of the studio is declared once here, with
// the schema its input is validated against at the boundary and the type of its
// result. Electron IPC (main/electron), the web-mode HTTP/WebSocket bridge
// (main/server) and the renderer client (renderer/src/api) are all derived from
// this table, so the transports cannot drift.
//
// Bulk data never goes through JSON: see `blobPaths` below.

import { z } from 'zod';
import type {
  AppInfo,
  ExportResult,
  JobInfo,
  ModelInfo,
  QaEntry,
  SceneDetail,
  SceneSummary,
  StudioEvent,
} from './domain';
import { MARKER_COLORS } from './domain';

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'ids are letters, digits, "-" and "_"');

/** A file the core can read: a path on this machine, or a file uploaded over the web bridge. */
export const importSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }),
  z.object({ kind: z.literal('upload'), uploadId: id }),
]);
export type ImportSource = z.infer<typeof importSourceSchema>;

export const markerSchema = z.object({
  color: z.enum(MARKER_COLORS),
  frameIndex: z.number().int().min(0),
  x: z.number().finite(),
  y: z.number().finite(),
});

interface Operation<I extends z.ZodType, R> {
  input: I;
  /** Phantom: carries the result type only. */
  result?: R;
  /** 'job' operations return { jobId } at once and report through job events. */
  kind: 'query' | 'command' | 'job';
}

const query =
  <I extends z.ZodType>(input: I) =>
  <R>(): Operation<I, R> => ({ input, kind: 'query' });
const command =
  <I extends z.ZodType>(input: I) =>
  <R>(): Operation<I, R> => ({ input, kind: 'command' });
const job = <I extends z.ZodType>(input: I): Operation<I, { jobId: string }> => ({ input, kind: 'job' });

const empty = z.object({}).strict();

export const api = {
  'app.info': query(empty)<AppInfo>(),

  'scenes.list': query(empty)<SceneSummary[]>(),
  'scenes.get': query(z.object({ sceneId: id }).strict())<SceneDetail>(),
  'scenes.rename': command(
    z.object({ sceneId: id, name: z.string().trim().min(1).max(200) }).strict(),
  )<SceneSummary>(),
  'scenes.delete': command(z.object({ sceneId: id }).strict())<{ deleted: true }>(),
  /** Import a video, a folder or list of photos, or a PLY/GLB point cloud as a new scene. */
  'scenes.import': job(
    z
      .object({
        sources: z.array(importSourceSchema).min(1).max(10_000),
        frames: z.number().int().min(2).max(512).optional(),
        name: z.string().trim().min(1).max(200).optional(),
      })
      .strict(),
  ),
  /** Write the scene's point cloud to a file; download it from blobPaths.export(exportId). */
  'scenes.export': command(
    z
      .object({
        sceneId: id,
        format: z.enum(['ply', 'glb']),
        encoding: z.enum(['binary', 'ascii']).optional(),
      })
      .strict(),
  )<ExportResult>(),
  'scenes.reconstruct': job(z.object({ sceneId: id, modelId: id.optional() }).strict()),

  'jobs.list': query(z.object({ sceneId: id.optional() }).strict())<JobInfo[]>(),
  'jobs.cancel': command(z.object({ jobId: id }).strict())<JobInfo>(),

  'qa.ask': job(
    z
      .object({
        sceneId: id,
        question: z.string().trim().min(1).max(8000),
        markers: z.array(markerSchema).max(16).optional(),
        modelId: id.optional(),
      })
      .strict(),
  ),
  'qa.history': query(z.object({ sceneId: id }).strict())<QaEntry[]>(),

  'models.list': query(empty)<ModelInfo[]>(),
  /** Register a converted model folder (see `g2studio model convert`) and make it active. */
  'models.register': command(z.object({ path: z.string().min(1).max(4096) }).strict())<ModelInfo>(),
} as const;

export type Api = typeof api;
export type OperationName = keyof Api;
export type OperationInput<N extends OperationName> = z.input<Api[N]['input']>;
export type ParsedInput<N extends OperationName> = z.output<Api[N]['input']>;
export type OperationResult<N extends OperationName> = NonNullable<Api[N]['result']>;

export const operationNames = Object.keys(api) as OperationName[];

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}

/** What every transport exposes to the renderer; the renderer client wraps it. */
export interface StudioTransport {
  call<N extends OperationName>(name: N, input: OperationInput<N>): Promise<OperationResult<N>>;
  subscribe(listener: (event: StudioEvent) => void): () => void;
  /** Absolute URL (web) or protocol URL (Electron) of a bulk-data path from blobPaths. */
  blobUrl(path: string): string;
  /** Hand a dropped/picked file to the core; returns a source for scenes.import. */
  importSourceFor(file: File): Promise<ImportSource>;
}

/**
 * Bulk data, served as binary: HTTP in web mode, the g2studio:// protocol in
 * Electron. Points are little-endian float32 xyz in scene units (OpenCV axes),
 * colours are uint8 rgb, one triple per point.
 */
export const blobPaths = {
  points: (sceneId: string) => `/blobs/scenes/${sceneId}/points.f32`,
  colors: (sceneId: string) => `/blobs/scenes/${sceneId}/colors.u8`,
  frameImage: (frameId: string) => `/blobs/frames/${frameId}/image`,
  frameThumb: (frameId: string) => `/blobs/frames/${frameId}/thumb.jpg`,
  export: (exportId: string) => `/blobs/exports/${exportId}`,
} as const;

/** The Electron custom protocol scheme for blobPaths. */
export const BLOB_PROTOCOL = 'g2studio';
/** The preload bridge's name on window. */
export const BRIDGE_NAME = 'g2studio';
