// The studio core: implements StudioService (main/core/studio-service.ts) for
// every operation of the API contract (main/common/api.ts). Inputs are
// validated here with each operation's schema; every error that leaves is a
// StudioError. Long operations run as jobs (main/core/jobs/). Plain Node: the
// CLI, the web server and the Electron shell all sit on top of this.

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  api,
  isOperationName,
  type ImportSource,
  type OperationName,
  type OperationResult,
  type ParsedInput,
} from '../common/api';
import type { AppInfo, FfmpegInfo, JobInfo, StudioEvent } from '../common/domain';
import { StudioError, toStudioErrorInfo } from '../common/errors';
import { locateFfmpeg } from './ingest/ffmpeg-locator';
import { unreadablePathError } from './ingest/media-kind';
import { QUALITY_SCORES, type QualityScoreName } from '../common/edit-stack';
import { SceneEditor } from './editing/scene-editor';
import { fitGroundPlane, levellingTransform } from './geometry/ground-plane';
import { metresPerUnitFromKnownDistance } from './geometry/measure';
import { sceneWorldTransform, transformCameras, transformCloud } from './geometry/world-transform';
import { editedPointCloud } from './cleanup/apply-edits';
import { askQuestion } from './jobs/ask-question';
import { exportSceneCameras } from './jobs/export-cameras';
import { importScene } from './jobs/import-scene';
import { JobQueue } from './jobs/job-queue';
import { reconstructScene, sceneNotFound } from './jobs/reconstruct-scene';
import type { Engine, StudioContext } from './jobs/studio-context';
import { newId } from './library/ids';
import { Library } from './library/library';
import { readModelFolder } from './model-library/model-folder';
import { ModelManager } from './model-library/model-manager';
import { startEngine } from '../model';
import { APP_VERSION } from './settings';
import type { BlobResponse, StudioService } from './studio-service';

export type { Engine } from './jobs/studio-context';

export interface StudioOptions {
  /** Library folder (or its .sqlite file); see settings.resolveLibraryPath. */
  libraryPath: string;
  mode: 'electron' | 'web' | 'cli';
  /** The model engine; defaults to an EngineClient (worker thread) started on first use. */
  engine?: Engine;
  /** ffmpeg binary chosen by the user (setting / --ffmpeg). */
  ffmpegPath?: string;
  /** Frames taken from a video when an import does not say (default 16, fewer for short clips). */
  defaultFrameCount?: number;
  executionProvider?: 'cpu' | 'cuda' | 'auto';
  /** Minimum ms between progress events of one job (default 100: ~10/s). */
  progressIntervalMs?: number;
}

/** The studio service plus what in-process front doors (CLI, tests) may use directly. */
export interface Studio extends StudioService {
  readonly library: Library;
  /** Resolves with the job's final state. */
  waitForJob(jobId: string): Promise<JobInfo>;
}

type Handlers = { [N in OperationName]: (input: ParsedInput<N>) => Promise<OperationResult<N>> };

const ID = '([A-Za-z0-9_-]{1,64})';
const BLOB_ROUTES = {
  points: new RegExp(`^/blobs/scenes/${ID}/points\\.f32$`),
  colors: new RegExp(`^/blobs/scenes/${ID}/colors\\.u8$`),
  frameImage: new RegExp(`^/blobs/frames/${ID}/image$`),
  frameThumb: new RegExp(`^/blobs/frames/${ID}/thumb\\.jpg$`),
  export: new RegExp(`^/blobs/exports/${ID}$`),
  editKeep: new RegExp(`^/blobs/scenes/${ID}/edits/keep\\.u8$`),
  editPoints: new RegExp(`^/blobs/scenes/${ID}/edits/points\\.f32$`),
  editColors: new RegExp(`^/blobs/scenes/${ID}/edits/colors\\.u8$`),
  editScores: new RegExp(`^/blobs/scenes/${ID}/edits/scores/([A-Za-z]+)\\.f32$`),
};

/** Uploads and exports older than this are removed when a studio opens the library. */
const TRANSIENT_FILE_MAX_AGE_MS = 24 * 3600 * 1000;

function invalidInput(
  name: string,
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
): StudioError {
  const details = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : 'input'}: ${issue.message}`)
    .join('; ');
  return new StudioError(
    'invalid-input',
    `Invalid input for ${name}: ${details}.`,
    'Check the values you passed against the operation (see main/common/api.ts).',
  );
}

/** File name safe for every OS, keeping the extension readable. */
function safeFileName(name: string, fallback: string): string {
  const cleaned = basename(name)
    .replace(/[^\p{L}\p{N}._ -]+/gu, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 120);
  return cleaned || fallback;
}

async function removeOlderThan(dir: string, maxAgeMs: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - maxAgeMs;
  for (const name of names) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    } catch {
      // Another process may be cleaning the same folder.
    }
  }
}

export async function createStudio(options: StudioOptions): Promise<Studio> {
  const library = Library.open(options.libraryPath);
  const listeners = new Set<(event: StudioEvent) => void>();
  const emit = (event: StudioEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A front door's listener failing must not stop the others or the job.
      }
    }
  };
  const jobWaiters = new Map<string, Array<(job: JobInfo) => void>>();
  const queue = new JobQueue({
    store: library.jobs,
    progressIntervalMs: options.progressIntervalMs,
    onChange: (job) => {
      models.onJobChange(job);
      emit({ type: 'job', job });
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
        const waiters = jobWaiters.get(job.id);
        jobWaiters.delete(job.id);
        waiters?.forEach((resolve) => resolve(job));
      }
    },
  });

  const models = new ModelManager({
    library,
    queue,
    providerSetting: options.executionProvider ?? 'auto',
  });

  let enginePromise: Promise<Engine> | null = options.engine ? Promise.resolve(options.engine) : null;
  const engine = (): Promise<Engine> => {
    enginePromise ??= startEngine().then((client) => client as Engine);
    return enginePromise;
  };
  let ffmpegPromise: Promise<FfmpegInfo> | null = null;
  const ffmpeg = (): Promise<FfmpegInfo> => {
    // The locator itself reads G2STUDIO_FFMPEG (and reports it as the source).
    const located = (ffmpegPromise ??= locateFfmpeg({ ffmpegPath: options.ffmpegPath }));
    // A failed lookup is retried next time (the user may install ffmpeg meanwhile).
    located.catch(() => (ffmpegPromise = null));
    return located;
  };

  const context: StudioContext = {
    library,
    engine,
    ffmpeg,
    emit,
    defaultFrameCount: options.defaultFrameCount ?? 16,
    executionProvider: options.executionProvider ?? 'auto',
  };

  void removeOlderThan(join(library.location.dir, 'uploads'), TRANSIENT_FILE_MAX_AGE_MS);
  void removeOlderThan(join(library.location.dir, 'exports'), TRANSIENT_FILE_MAX_AGE_MS);

  const uploadPath = async (uploadId: string): Promise<{ path: string; fileName: string }> => {
    const dir = join(library.uploadsDir, uploadId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const fileName = names.find((n) => !n.endsWith('.partial'));
    if (!fileName) {
      throw new StudioError(
        'not-found',
        `There is no upload ${uploadId}.`,
        'Upload the file again, then import it.',
      );
    }
    return { path: join(dir, fileName), fileName };
  };

  const resolveSources = async (
    sources: ImportSource[],
  ): Promise<{ paths: string[]; displayNames: string[] }> => {
    const paths: string[] = [];
    const displayNames: string[] = [];
    for (const source of sources) {
      if (source.kind === 'path') {
        paths.push(source.path);
        displayNames.push(basename(source.path) || source.path);
      } else {
        const upload = await uploadPath(source.uploadId);
        paths.push(upload.path);
        displayNames.push(upload.fileName);
      }
    }
    return { paths, displayNames };
  };

  const editor = new SceneEditor(library);

  const requireScene = (sceneId: string) => {
    const summary = library.scenes.summary(sceneId);
    if (!summary) throw sceneNotFound(sceneId);
    return summary;
  };

  const handlers: Handlers = {
    'app.info': async (): Promise<AppInfo> => ({
      version: APP_VERSION,
      libraryPath: library.location.dir,
      ffmpeg: await ffmpeg().catch(() => null),
      executionProviders: await models.availableProviders(),
      mode: options.mode,
    }),

    'scenes.list': async () => library.scenes.list(),

    'scenes.get': async ({ sceneId }) => {
      const scene = library.scenes.get(sceneId);
      if (!scene) throw sceneNotFound(sceneId);
      return scene;
    },

    'scenes.rename': async ({ sceneId, name }) => {
      const renamed = library.scenes.rename(sceneId, name);
      if (!renamed) throw sceneNotFound(sceneId);
      emit({ type: 'scenes-changed' });
      return renamed;
    },

    'scenes.delete': async ({ sceneId }) => {
      if (!library.scenes.delete(sceneId)) throw sceneNotFound(sceneId);
      editor.forget(sceneId);
      emit({ type: 'scenes-changed' });
      return { deleted: true as const };
    },

    'scenes.import': async (input) => {
      // Resolve uploads now so a bad upload id is an error of the call, not of a job.
      const { paths, displayNames } = await resolveSources(input.sources);
      // A path that is not there is the caller's mistake: say so now, not in a job.
      for (const path of paths) {
        await stat(path).catch((error: unknown) => {
          throw unreadablePathError(path, error);
        });
      }
      const uploadDirs = input.sources.flatMap((s) =>
        s.kind === 'upload' ? [join(library.uploadsDir, s.uploadId)] : [],
      );
      const title = paths.length === 1 ? `Import ${displayNames[0]}` : `Import ${paths.length} files`;
      const job = queue.enqueue({
        kind: 'import',
        title,
        run: async (ctx) => {
          const result = await importScene(
            context,
            { paths, displayNames, frames: input.frames, name: input.name },
            ctx,
          );
          // The scene holds everything now; the uploaded file is no longer needed.
          await Promise.all(uploadDirs.map((dir) => rm(dir, { recursive: true, force: true })));
          return result;
        },
        describeSuccess: (result) =>
          `Imported "${String(result?.name)}": ${Number(result?.frameCount)} frames, ${Number(result?.pointCount)} points.`,
      });
      return { jobId: job.id };
    },

    'scenes.export': async ({ sceneId, format, encoding, upAxis }) => {
      const scene = library.scenes.get(sceneId);
      if (!scene) throw sceneNotFound(sceneId);
      if (scene.pointCount === 0) {
        throw new StudioError(
          'not-found',
          `"${scene.name}" has no point cloud to export yet.`,
          'Reconstruct the scene first (scenes.reconstruct / g2studio reconstruct).',
        );
      }
      // What the user sees: the edited cloud, levelled and in metres when set.
      const world = sceneWorldTransform(scene);
      const points = transformCloud(editedPointCloud(await editor.result(sceneId)), world);
      if (points.count === 0) {
        throw new StudioError(
          'invalid-input',
          `The edits of "${scene.name}" removed every point, so there is nothing to export.`,
          'Undo the last edits (Ctrl+Z / g2studio edit undo) and export again.',
        );
      }
      const exportId = newId('exp');
      const dir = join(library.exportsDir, exportId);
      await mkdir(dir, { recursive: true });
      const fileName = `${safeFileName(scene.name, 'scene')}.${format}`;
      try {
        // Loaded on demand: the writers pull in glTF-Transform.
        const { exportPointCloud } = await import('./pointcloud/export-point-cloud');
        const { bytes, pointCount } = await exportPointCloud(join(dir, fileName), points, {
          format,
          encoding: format === 'ply' ? (encoding ?? 'binary') : undefined,
          upAxis,
          cameras: transformCameras(scene.cameras, world),
        });
        return { exportId, fileName, bytes, format, pointCount };
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    },

    'scenes.exportCameras': async (input) => {
      const scene = requireScene(input.sceneId);
      if (input.outDir && !isAbsolute(input.outDir)) {
        throw new StudioError(
          'invalid-input',
          `The export folder must be an absolute path, not "${input.outDir}".`,
          'Give the full path of a new folder.',
        );
      }
      const job = queue.enqueue({
        kind: 'export',
        title: `Export ${scene.name} (${input.format === 'colmap' ? 'COLMAP' : 'nerfstudio'})`,
        sceneId: scene.id,
        run: async (ctx) => ({
          ...(await exportSceneCameras(
            context,
            editor,
            { ...input, baseName: safeFileName(scene.name, 'scene') },
            ctx,
          )),
        }),
        describeSuccess: (result) =>
          `Exported ${Number(result?.cameraCount)} cameras and ${Number(result?.pointCount)} points to ${String(result?.dir ?? result?.fileName)}.`,
      });
      return { jobId: job.id };
    },

    'scenes.setScale': async ({ sceneId, scale }) => {
      requireScene(sceneId);
      const metresPerUnit =
        scale.kind === 'none'
          ? null
          : scale.kind === 'metres-per-unit'
            ? scale.value
            : metresPerUnitFromKnownDistance(scale.a, scale.b, scale.metres);
      library.scenes.setMetresPerUnit(sceneId, metresPerUnit);
      emit({ type: 'scenes-changed' });
      return requireScene(sceneId);
    },

    'scenes.setGround': async ({ sceneId, ground }) => {
      const scene = library.scenes.get(sceneId);
      if (!scene) throw sceneNotFound(sceneId);
      let alignment: number[] | null = null;
      if (ground.kind === 'points') {
        // Orient the plane towards the cameras (they film from above the floor).
        const centres = scene.cameras.map((c) => [
          c.worldFromCamera[3],
          c.worldFromCamera[7],
          c.worldFromCamera[11],
        ]);
        const towards = centres.length
          ? ([0, 1, 2].map((a) => centres.reduce((sum, c) => sum + c[a], 0) / centres.length) as [
              number,
              number,
              number,
            ])
          : undefined;
        const plane = fitGroundPlane(ground.points, { towards });
        // Up is −y in the OpenCV world the studio keeps (three.js +Y after the viewer's flip).
        alignment = levellingTransform(plane, [0, -1, 0]);
      }
      library.scenes.setGroundAlignment(sceneId, alignment);
      emit({ type: 'scenes-changed' });
      return requireScene(sceneId);
    },

    'edits.get': async ({ sceneId }) => editor.state(sceneId),
    'edits.push': async ({ sceneId, edit }) => editor.push(sceneId, edit),
    'edits.undo': async ({ sceneId }) => editor.undo(sceneId),
    'edits.redo': async ({ sceneId }) => editor.redo(sceneId),

    'scenes.reconstruct': async (input) => {
      const scene = requireScene(input.sceneId);
      const modelId = models.pinModel(input.modelId);
      const job = queue.enqueue({
        kind: 'reconstruct',
        title: `Reconstruct ${scene.name}`,
        sceneId: scene.id,
        run: (ctx) => reconstructScene(context, { ...input, modelId }, ctx),
        describeSuccess: (result) =>
          `Reconstructed "${scene.name}": ${Number(result?.frameCount)} frames, ${Number(result?.pointCount)} points.`,
      });
      models.trackJob(job.id, modelId);
      return { jobId: job.id };
    },

    'jobs.list': async ({ sceneId }) => queue.list(sceneId),

    'jobs.cancel': async ({ jobId }) => queue.cancel(jobId),

    'qa.ask': async (input) => {
      const scene = requireScene(input.sceneId);
      const modelId = models.pinModel(input.modelId);
      const job = queue.enqueue({
        kind: 'ask',
        title: `Ask about ${scene.name}`,
        sceneId: scene.id,
        run: (ctx) => askQuestion(context, { ...input, modelId }, ctx),
        describeSuccess: (result) => `Answered: ${String(result?.answer ?? '').slice(0, 160)}`,
      });
      models.trackJob(job.id, modelId);
      return { jobId: job.id };
    },

    'qa.history': async ({ sceneId }) => {
      requireScene(sceneId);
      return library.qa.history(sceneId);
    },

    'models.list': async () => models.list(),

    'models.register': async ({ path }) => {
      const model = await readModelFolder(path);
      return library.models.registerActive(model);
    },

    'models.download': async (input) => models.download(input),

    'models.import': async (input) => models.importFolder(input),

    'models.remove': async ({ modelId }) => models.remove(modelId),

    'models.use': async ({ modelId }) => models.use(modelId),

    'models.runtime': async () => models.runtime(),
  };

  const openBlob = async (path: string): Promise<BlobResponse | null> => {
    const route = path.split('?')[0];
    let match: RegExpExecArray | null;
    if ((match = BLOB_ROUTES.points.exec(route))) {
      if (!library.scenes.summary(match[1])) return null;
      // A scene without a cloud yet serves an empty array: zero points.
      const body = library.scenes.positionsBytes(match[1]) ?? Buffer.alloc(0);
      return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
    }
    if ((match = BLOB_ROUTES.colors.exec(route))) {
      const summary = library.scenes.summary(match[1]);
      if (!summary) return null;
      const body = library.scenes.colorsBytes(match[1]);
      if (body) return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
      // No colours stored: mid grey for every point, so renderers need no special case.
      const grey = Buffer.alloc(summary.pointCount * 3, 160);
      return { contentType: 'application/octet-stream', body: grey, bytes: grey.byteLength };
    }
    if ((match = BLOB_ROUTES.editKeep.exec(route))) {
      if (!library.scenes.summary(match[1])) return null;
      return binaryBlob((await editor.result(match[1])).keep);
    }
    if ((match = BLOB_ROUTES.editPoints.exec(route))) {
      if (!library.scenes.summary(match[1])) return null;
      return binaryBlob((await editor.result(match[1])).cloud.positions);
    }
    if ((match = BLOB_ROUTES.editColors.exec(route))) {
      if (!library.scenes.summary(match[1])) return null;
      const { cloud } = await editor.result(match[1]);
      return binaryBlob(cloud.colors ?? new Uint8Array(cloud.count * 3).fill(160));
    }
    if ((match = BLOB_ROUTES.editScores.exec(route))) {
      const score = match[2] as QualityScoreName;
      if (!library.scenes.summary(match[1]) || !QUALITY_SCORES.includes(score)) return null;
      return binaryBlob(await editor.scores(match[1], score));
    }
    if ((match = BLOB_ROUTES.frameImage.exec(route))) {
      const image = library.scenes.frameImage(match[1]);
      return image ? { contentType: image.mime, body: image.bytes, bytes: image.bytes.byteLength } : null;
    }
    if ((match = BLOB_ROUTES.frameThumb.exec(route))) {
      const thumb = library.scenes.frameThumbnail(match[1]);
      return thumb ? { contentType: 'image/jpeg', body: thumb, bytes: thumb.byteLength } : null;
    }
    if ((match = BLOB_ROUTES.export.exec(route))) {
      const dir = join(library.location.dir, 'exports', match[1]);
      const names = await readdir(dir).catch(() => [] as string[]);
      const fileName = names.find((n) => !n.startsWith('.') && !n.endsWith('.tmp'));
      if (!fileName) return null;
      const file = join(dir, fileName);
      const { size } = await stat(file);
      const type =
        extname(fileName) === '.glb'
          ? 'model/gltf-binary'
          : extname(fileName) === '.zip'
            ? 'application/zip'
            : 'application/octet-stream';
      return { contentType: type, body: createReadStream(file), bytes: size, fileName };
    }
    return null;
  };

  const binaryBlob = (array: Uint8Array | Float32Array): BlobResponse => {
    const body = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    return { contentType: 'application/octet-stream', body, bytes: body.byteLength };
  };

  const saveUpload = async (fileName: string, body: Readable): Promise<{ uploadId: string }> => {
    const uploadId = newId('upl');
    const dir = join(library.uploadsDir, uploadId);
    await mkdir(dir, { recursive: true });
    const name = safeFileName(fileName, 'upload');
    const partial = join(dir, `${name}.partial`);
    try {
      await pipeline(body, createWriteStream(partial));
      // Only a complete upload gets its real name (and so becomes importable).
      await rename(partial, join(dir, name));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new StudioError(
        'unreadable-path',
        `The upload of "${fileName}" did not complete.`,
        'Upload the file again.',
        {
          cause: error,
        },
      );
    }
    return { uploadId };
  };

  let closed = false;
  const studio: Studio = {
    library,

    async call(name: string, input: unknown): Promise<unknown> {
      if (closed) throw new StudioError('busy', 'The studio is closed.', 'Start the studio again.');
      if (!isOperationName(name)) {
        throw new StudioError(
          'not-found',
          `There is no operation "${name}".`,
          'See main/common/api.ts for the operations.',
        );
      }
      const parsed = api[name].input.safeParse(input ?? {});
      if (!parsed.success) throw invalidInput(name, parsed.error.issues);
      const handler = handlers[name] as (input: unknown) => Promise<unknown>;
      try {
        return await handler(parsed.data);
      } catch (error) {
        if (error instanceof StudioError) throw error;
        const info = toStudioErrorInfo(error);
        throw new StudioError(info.code, info.message, info.fix, { cause: error });
      }
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    openBlob,
    saveUpload,

    waitForJob(jobId: string): Promise<JobInfo> {
      const job = queue.get(jobId);
      if (!job)
        return Promise.reject(
          new StudioError('not-found', `There is no job ${jobId}.`, 'List jobs to see their ids.'),
        );
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled')
        return Promise.resolve(job);
      return new Promise((resolve) => {
        const waiters = jobWaiters.get(jobId) ?? [];
        waiters.push(resolve);
        jobWaiters.set(jobId, waiters);
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue.close();
      if (enginePromise) await (await enginePromise.catch(() => null))?.close();
      listeners.clear();
      library.close();
    },
  };
  return studio;
}
