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
  SceneEditState,
  JobInfo,
  ModelInfo,
  ModelRemoval,
  ModelRuntimeInfo,
  PrecisionAdvice,
  QaEntry,
  SceneDetail,
  SceneSummary,
  StudioEvent,
} from './domain';
import { MARKER_COLORS, PRECISION_CHOICES } from './domain';
import { editSchema, type QualityScoreName } from './edit-stack';
import { UP_AXES } from './export-axes';
import { FOLDER_UPLOAD_LIMITS, relativePathProblem } from './folder-upload';

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

/**
 * Web mode: a folder announced before its files are sent (uploads.beginFolder).
 * The schema bounds the list; the studio's own limits (FOLDER_UPLOAD_LIMITS,
 * checkFolderUpload) are checked by the handler with a plain message.
 */
export const folderUploadManifestSchema = z
  .object({
    /** The picked folder's own name (a display name; the core stores it sanitised). */
    name: z.string().trim().min(1).max(255),
    files: z
      .array(
        z
          .object({
            path: z
              .string()
              .min(1)
              .max(4096)
              .superRefine((path, ctx) => {
                const problem = relativePathProblem(path);
                if (problem)
                  ctx.addIssue({ code: 'custom', message: `not a safe relative path: ${problem}` });
              }),
            bytes: z.number().int().min(0).max(FOLDER_UPLOAD_LIMITS.maxBytes),
          })
          .strict(),
      )
      .min(1)
      .max(100_000),
  })
  .strict();
export type FolderUploadManifest = z.infer<typeof folderUploadManifestSchema>;

/** What uploads.beginFolder answers: the id to send the files under, and what it expects. */
export interface FolderUploadStarted {
  uploadId: string;
  fileCount: number;
  totalBytes: number;
}

/**
 * The web bridge's byte routes (not JSON): a single file (POST, raw body,
 * ?name=<file name>) and one file of a folder upload (POST, raw body,
 * ?uploadId=<id>&path=<relative path>, exactly the declared size).
 */
export const UPLOAD_ROUTES = {
  file: '/api/upload',
  folderFile: '/api/upload/folder-file',
} as const;

const vec3 = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);

/** How a scene gets its metric scale: two picked points and their real distance, or a value. */
export const sceneScaleSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('known-distance'),
      a: vec3,
      b: vec3,
      metres: z.number().finite().positive().max(1e7),
    })
    .strict(),
  z.object({ kind: z.literal('metres-per-unit'), value: z.number().finite().positive() }).strict(),
  z.object({ kind: z.literal('none') }).strict(),
]);
export type SceneScaleInput = z.infer<typeof sceneScaleSchema>;

/** The ground plane: three or more points picked on the floor (scene units, OpenCV axes), or none. */
export const sceneGroundSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('points'), points: z.array(vec3).min(3).max(10_000) }).strict(),
  z.object({ kind: z.literal('none') }).strict(),
]);
export type SceneGroundInput = z.infer<typeof sceneGroundSchema>;

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
  /**
   * Web mode: announce a folder upload (a picked or dropped folder: its files'
   * relative paths and sizes), checked against the limits before any byte is
   * sent. Then POST each file to UPLOAD_ROUTES.folderFile; once all have
   * arrived, { kind: 'upload', uploadId } imports the folder (a COLMAP project
   * or transforms.json as a posed capture, else its photos). The folder is
   * removed after that import, by uploads.discard, or when left idle.
   */
  'uploads.beginFolder': command(folderUploadManifestSchema)<FolderUploadStarted>(),
  /** Drop an upload (a cancelled folder upload): its files are removed. */
  'uploads.discard': command(z.object({ uploadId: id }).strict())<{ discarded: boolean }>(),
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
  /**
   * Select or deselect frames for the next reconstruction. Refused (busy) while
   * a reconstruction of the scene is queued or running; ids of other scenes are
   * refused (not-found) and nothing changes.
   */
  'scenes.selectFrames': command(
    z.object({ sceneId: id, frameIds: z.array(id).min(1).max(100_000), selected: z.boolean() }).strict(),
  )<SceneDetail>(),
  /**
   * Run the automatic selection again over the scene's stored frames with a new
   * count (the sharpest frame of each stretch of time, as at import). Refused
   * (busy) while a reconstruction of the scene is queued or running.
   */
  'scenes.reselectFrames': command(
    z.object({ sceneId: id, count: z.number().int().min(2).max(512) }).strict(),
  )<SceneDetail>(),
  /**
   * Write the scene's point cloud to a file, as a job (stages 'edits', 'write'):
   * its result is an ExportResult; download blobPaths.export(exportId). The
   * file lives as long as main/common/export-lifetime.ts says.
   */
  'scenes.export': job(
    z
      .object({
        sceneId: id,
        format: z.enum(['ply', 'glb']),
        encoding: z.enum(['binary', 'ascii']).optional(),
        /** PLY only: 'opencv' (default), 'y-up' or 'z-up'; GLB is always y-up. */
        upAxis: z.enum(UP_AXES).optional(),
      })
      .strict()
      .refine((input) => input.format === 'ply' || input.upAxis === undefined || input.upAxis === 'y-up', {
        message: 'GLB is always y-up: leave out upAxis, or export PLY for OpenCV or z-up axes',
        path: ['upAxis'],
      })
      .refine((input) => !(input.format === 'glb' && input.encoding === 'ascii'), {
        message: 'GLB is binary only: leave out encoding, or export PLY for ASCII',
        path: ['encoding'],
      }),
  ),
  /**
   * Camera formats for downstream tools (Gaussian splatting, meshing): a COLMAP
   * text model or a nerfstudio transforms.json with the frames' images, the
   * edited points, in metres once scaled and levelled once a ground is set. The
   * job's result is a CameraExportResult; download blobPaths.export(exportId)
   * (a zip of the folder).
   */
  'scenes.exportCameras': job(
    z
      .object({
        sceneId: id,
        format: z.enum(['colmap', 'nerfstudio']),
        /** Frames to include (default: the selected frames that have cameras and are not hidden). */
        frameIds: z.array(id).min(1).max(100_000).optional(),
        /** A new folder to write (absolute path: Electron's folder picker, the CLI); default: a zip to download. */
        outDir: z.string().min(1).max(4096).optional(),
      })
      .strict(),
  ),
  /** Give the scene a metric scale (or remove it); used by measurements, Q&A evidence and exports. A step of the edit stack: edits.undo takes it back. */
  'scenes.setScale': command(z.object({ sceneId: id, scale: sceneScaleSchema }).strict())<SceneSummary>(),
  /** Level the scene on a picked ground plane (up = its normal), or remove the levelling. A step of the edit stack too. */
  'scenes.setGround': command(z.object({ sceneId: id, ground: sceneGroundSchema }).strict())<SceneSummary>(),

  /** The scene's non-destructive edit stack and what it leaves; see blobPaths.edit*. */
  'edits.get': query(z.object({ sceneId: id }).strict())<SceneEditState>(),
  /** Apply one more edit (drops what was undone); refused edits leave the stack unchanged. */
  'edits.push': command(z.object({ sceneId: id, edit: editSchema }).strict())<SceneEditState>(),
  'edits.undo': command(z.object({ sceneId: id }).strict())<SceneEditState>(),
  'edits.redo': command(z.object({ sceneId: id }).strict())<SceneEditState>(),

  'scenes.reconstruct': job(z.object({ sceneId: id, modelId: id.optional() }).strict()),

  'jobs.list': query(z.object({ sceneId: id.optional() }).strict())<JobInfo[]>(),
  'jobs.cancel': command(z.object({ jobId: id }).strict())<JobInfo>(),
  /** Forget finished jobs (of one scene, or all): the Jobs panel's Clear. Running jobs stay. */
  'jobs.clear': command(z.object({ sceneId: id.optional() }).strict())<{ cleared: number }>(),

  'qa.ask': job(
    z
      .object({
        sceneId: id,
        question: z.string().trim().min(1).max(8000),
        markers: z.array(markerSchema).max(16).optional(),
        /** Markers picked in 3D (scene units); each is drawn on the frame that sees it best. */
        pointMarkers: z
          .array(z.object({ color: z.enum(MARKER_COLORS), point: vec3 }).strict())
          .max(16)
          .optional(),
        modelId: id.optional(),
      })
      .strict(),
  ),
  'qa.history': query(z.object({ sceneId: id }).strict())<QaEntry[]>(),

  'models.list': query(empty)<ModelInfo[]>(),
  /** Register a converted model folder (see `g2studio model convert`) and make it active. */
  'models.register': command(z.object({ path: z.string().min(1).max(4096) }).strict())<ModelInfo>(),
  /**
   * Download a checkpoint from the model hub (default: the official G2VLM-2B-MoT at main),
   * resuming an earlier partial download, verify it, convert it into the library and make it active.
   */
  'models.download': job(
    z
      .object({
        repoId: z.string().trim().min(3).max(200).optional(),
        revision: z.string().trim().min(1).max(200).optional(),
        /** Default fp32; `auto` picks for this machine and the job log says why. */
        precision: z.enum(PRECISION_CHOICES).optional(),
      })
      .strict(),
  ),
  /**
   * Each precision's size on disk and the memory a reconstruction would need,
   * before converting: for a local checkpoint folder, or (without a path) the
   * official model; with the precision `auto` would pick here and why.
   */
  'models.precisions': query(
    z.object({ path: z.string().min(1).max(4096).optional() }).strict(),
  )<PrecisionAdvice>(),
  /** Convert a local checkpoint folder into the library and register it (active when none is). */
  'models.import': job(
    z
      .object({
        path: z.string().min(1).max(4096),
        /** Default fp32; `auto` picks for this machine and the job log says why. */
        precision: z.enum(PRECISION_CHOICES).optional(),
        /** tokenizer.json or a folder with it, for checkpoints that ship without one. */
        tokenizer: z.string().min(1).max(4096).optional(),
        /** Replace an installed model with the same id (same checkpoint and precision); refused otherwise. */
        replace: z.boolean().optional(),
      })
      .strict(),
  ),
  /** Unregister a model and delete its folder in the library; refused while a job uses it. */
  'models.remove': command(z.object({ modelId: id }).strict())<ModelRemoval>(),
  /** Make a registered model the active one. */
  'models.use': command(z.object({ modelId: id }).strict())<ModelInfo>(),
  /** Execution providers on this machine (CUDA device or why it is missing), the setting, the precision. */
  'models.runtime': query(empty)<ModelRuntimeInfo>(),
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
  /**
   * Hand a picked or dropped folder's files to the core (web: uploaded with
   * their relative paths; Electron: the folder's own path); returns a source
   * for scenes.import. `signal` cancels it: uploaded files are discarded.
   */
  importSourceForFolder(folder: PickedFolder, options?: FolderTransferOptions): Promise<ImportSource>;
  /**
   * Electron only: the system's folder picker; the chosen folder as a path
   * source, null when the user cancelled. Absent in web mode, where the page
   * picks with <input webkitdirectory>.
   */
  pickFolder?(): Promise<ImportSource | null>;
}

/** A folder the user picked or dropped: its name and the files to send, by relative path. */
export interface PickedFolder {
  name: string;
  files: Array<{ path: string; file: File }>;
}

export interface FolderTransferOptions {
  signal?: AbortSignal;
  /** Bytes sent so far of all the folder's bytes. */
  onProgress?(sentBytes: number, totalBytes: number): void;
}

/**
 * Bulk data, served as binary: HTTP in web mode, the g2studio:// protocol in
 * Electron. Points are little-endian float32 xyz in scene units (OpenCV axes),
 * colours are uint8 rgb, one triple per point. Every route is declared once
 * here; the path builders below (for the renderer) and `matchBlobRoute` (for
 * the core that serves them) are both made from this table.
 */
export const BLOB_ROUTES = {
  points: '/blobs/scenes/{sceneId}/points.f32',
  colors: '/blobs/scenes/{sceneId}/colors.u8',
  frameImage: '/blobs/frames/{frameId}/image',
  frameThumb: '/blobs/frames/{frameId}/thumb.jpg',
  export: '/blobs/exports/{exportId}',
  editKeep: '/blobs/scenes/{sceneId}/edits/keep.u8',
  editPoints: '/blobs/scenes/{sceneId}/edits/points.f32',
  editColors: '/blobs/scenes/{sceneId}/edits/colors.u8',
  editScores: '/blobs/scenes/{sceneId}/edits/scores/{score}.f32',
} as const;
export type BlobRouteName = keyof typeof BLOB_ROUTES;

/** A route parameter: an id (or a score name), never a path separator or a dot-dot. */
const BLOB_PARAM = '([A-Za-z0-9_-]{1,64})';

function blobPath(route: BlobRouteName, params: Record<string, string>): string {
  return BLOB_ROUTES[route].replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
}

const blobMatchers = (Object.keys(BLOB_ROUTES) as BlobRouteName[]).map((route) => {
  const names: string[] = [];
  const source = BLOB_ROUTES[route]
    .split(/(\{\w+\})/)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return BLOB_PARAM;
    })
    .join('');
  return { route, names, pattern: new RegExp(`^${source}$`) };
});

/** The route and parameters of a blob path (its query string ignored), or null for no route. */
export function matchBlobRoute(
  path: string,
): { route: BlobRouteName; params: Record<string, string> } | null {
  const bare = path.split('?')[0];
  for (const { route, names, pattern } of blobMatchers) {
    const match = pattern.exec(bare);
    if (match) return { route, params: Object.fromEntries(names.map((name, i) => [name, match[i + 1]])) };
  }
  return null;
}

export const blobPaths = {
  points: (sceneId: string) => blobPath('points', { sceneId }),
  colors: (sceneId: string) => blobPath('colors', { sceneId }),
  frameImage: (frameId: string) => blobPath('frameImage', { frameId }),
  frameThumb: (frameId: string) => blobPath('frameThumb', { frameId }),
  export: (exportId: string) => blobPath('export', { exportId }),
  /**
   * The edit stack's result (SceneEditState): a uint8 keep mask over the edited
   * cloud, which is the scene's own cloud unless a voxel edit replaced it (then
   * read editPoints/editColors). `revision` is SceneEditState.revision, only to
   * keep caches honest.
   */
  editKeep: (sceneId: string, revision: string) => `${blobPath('editKeep', { sceneId })}?rev=${revision}`,
  editPoints: (sceneId: string, revision: string) => `${blobPath('editPoints', { sceneId })}?rev=${revision}`,
  editColors: (sceneId: string, revision: string) => `${blobPath('editColors', { sceneId })}?rev=${revision}`,
  /**
   * float32 quality score per point of the edited cloud (higher is worse), for a
   * live filter preview before the filter is pushed: 'outlier' is computed over
   * the points still kept (+Infinity for the others).
   */
  editScores: (sceneId: string, score: QualityScoreName, revision: string) =>
    `${blobPath('editScores', { sceneId, score })}?rev=${revision}`,
} as const;

/** The Electron custom protocol scheme for blobPaths. */
export const BLOB_PROTOCOL = 'g2studio';
/** The preload bridge's name on window. */
export const BRIDGE_NAME = 'g2studio';
