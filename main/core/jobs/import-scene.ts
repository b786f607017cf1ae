// scenes.import: a video becomes frames (ingest), a folder or list of photos
// becomes frames, a PLY/GLB/glTF becomes a point-cloud scene. What a file is
// is judged by its content (media-kind.ts), never by its extension. The scene
// is written in one transaction at the very end, so a cancel or a crash
// leaves no half scene behind.

import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { SceneSummary, SourceInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { selectSharpestPerGroup } from '../ingest/frame-selection';
import { detectMediaKind, unreadablePathError } from '../ingest/media-kind';
import { importPhotos } from '../ingest/photo-import';
import type { IngestedFrame } from '../ingest/types';
import { importVideo, probeVideo } from '../ingest/video-import';
import { sha256File } from '../library/file-hash';
import { detectPosedCapture, readPosedCapture, type PosedImport } from '../posed-import/import-posed-capture';
import { describePosedCapture } from '../posed-import/posed-capture';
import type { NewFrame, NewScene } from '../library/scene-store';
import type { JobContext } from './job-queue';
import type { StudioContext } from './studio-context';

export interface ImportRequest {
  /** Local paths (uploads already resolved). */
  paths: string[];
  /** Display names of the paths (an upload's original file name). */
  displayNames: string[];
  frames?: number;
  name?: string;
}

export type ImportPlan =
  | { kind: 'video'; path: string }
  | { kind: 'photos'; paths: string[]; folder: string | null }
  | { kind: 'pointcloud'; path: string }
  | { kind: 'posed'; path: string; format: 'colmap' | 'nerfstudio' };

const unsupported = (what: string): StudioError =>
  new StudioError(
    'unsupported-file',
    `${what} is not a video, photo or point cloud G2 Studio can read.`,
    'Import an MP4/MOV video, a folder of JPEG/PNG photos, a PLY/GLB/glTF point cloud, or a COLMAP project / transforms.json.',
  );

/** Decide what kind of import the paths call for (reads only the first bytes of each file). */
export async function planImport(paths: string[], displayNames: string[]): Promise<ImportPlan> {
  // A COLMAP project or a transforms.json is a posed capture, not a folder of photos.
  const posed = paths.length === 1 ? detectPosedCapture(paths[0]) : null;
  if (posed) return { kind: 'posed', path: paths[0], format: posed };
  const kinds = await Promise.all(paths.map((path) => detectMediaKind(path)));
  if (paths.length === 1) {
    const [path] = paths;
    switch (kinds[0]) {
      case 'video':
        return { kind: 'video', path };
      case 'pointcloud':
        return { kind: 'pointcloud', path };
      case 'image':
        return { kind: 'photos', paths: [path], folder: null };
      case 'folder':
        return { kind: 'photos', paths: await photosInFolder(path), folder: path };
      default:
        throw unsupported(`"${displayNames[0]}"`);
    }
  }
  const photos: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    if (kinds[i] === 'image') photos.push(paths[i]);
    else if (kinds[i] === 'folder') photos.push(...(await photosInFolder(paths[i])));
    else if (kinds[i] === 'video' || kinds[i] === 'pointcloud') {
      throw new StudioError(
        'unsupported-file',
        `"${displayNames[i]}" is a ${kinds[i]}; only photos can be imported together.`,
        'Import videos and point clouds one at a time.',
      );
    } else throw unsupported(`"${displayNames[i]}"`);
  }
  return { kind: 'photos', paths: photos, folder: null };
}

async function photosInFolder(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw unreadablePathError(folder, error);
  }
  const photos: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(folder, name);
    try {
      if ((await stat(path)).isFile() && (await detectMediaKind(path)) === 'image') photos.push(path);
    } catch {
      // An unreadable or empty file among the photos is skipped, not fatal.
    }
  }
  if (photos.length === 0) {
    throw new StudioError(
      'unsupported-file',
      `The folder "${basename(folder)}" holds no photos G2 Studio can read.`,
      'Choose a folder with JPEG or PNG photos.',
    );
  }
  return photos;
}

function toNewFrame(frame: IngestedFrame): NewFrame {
  return {
    index: frame.index,
    timestampS: frame.timestampS,
    width: frame.width,
    height: frame.height,
    image: frame.image,
    imageMime: frame.imageMime,
    thumbnail: frame.thumbnail,
    blurScore: frame.blurScore,
    selected: frame.selected,
    fileName: frame.fileName,
  };
}

/** A source record for inputs that are not one video (photos, point clouds). */
async function stillSource(paths: string[], fileName: string, signal: AbortSignal): Promise<SourceInfo> {
  let bytes = 0;
  const hashes: string[] = [];
  for (const path of paths) {
    bytes += (await stat(path)).size;
    hashes.push(await sha256File(path, signal));
  }
  // Several files: hash of the (name-ordered) file hashes, stable for the same set.
  const sha256 =
    hashes.length === 1 ? hashes[0] : createHash('sha256').update(hashes.join('\n')).digest('hex');
  return {
    fileName,
    sha256,
    bytes,
    container: null,
    codec: null,
    codedWidth: null,
    codedHeight: null,
    width: null,
    height: null,
    rotation: 0,
    fps: null,
    durationS: null,
    variableFrameRate: false,
    hasAudio: false,
  };
}

const stripExt = (name: string): string => basename(name, extname(name)) || name;

/**
 * With more photos than the frames asked for, select `count` of them spread
 * over the (name-ordered) sequence: the sharpest photo of each of `count`
 * equal groups. All photos are kept; the user can change the selection.
 */
export function selectPhotos(frames: NewFrame[], count: number): NewFrame[] {
  if (frames.length <= count) return frames;
  const chosen = selectSharpestPerGroup(
    frames.map((frame) => frame.blurScore),
    count,
  );
  return frames.map((frame, i) => ({ ...frame, selected: chosen[i] }));
}

/** Runs the import; returns the new scene's summary fields for JobInfo.result. */
export async function importScene(
  studio: StudioContext,
  request: ImportRequest,
  ctx: JobContext,
): Promise<ImportResult> {
  ctx.progress(0, 'inspect');
  const plan = await planImport(request.paths, request.displayNames);
  ctx.throwIfCancelled();
  // Ingest takes 0..0.9 of the bar; writing the scene the rest.
  const onProgress = (progress: number, stage: string): void => ctx.progress(0.9 * progress, stage);
  let scene: NewScene;
  /** Point clouds only: points the file held with NaN/infinite coordinates, not stored. */
  let droppedNonFinite = 0;
  let posed: PosedImport | null = null;
  /** Posed captures only: what the folder held, in words (see describePosedCapture). */
  let found: string | undefined;
  if (plan.kind === 'posed') {
    // A transforms.json is named after its folder; a COLMAP project is its folder.
    const label =
      basename(plan.path).toLowerCase() === 'transforms.json'
        ? basename(dirname(plan.path))
        : basename(plan.path);
    ctx.log(
      `Reading the ${plan.format === 'colmap' ? 'COLMAP model' : 'transforms.json'} in ${request.displayNames[0]}`,
    );
    posed = await readPosedCapture(plan.path, plan.format, { signal: ctx.signal, onProgress });
    found = describePosedCapture(posed.capture);
    ctx.log(`Found a ${found}`);
    for (const warning of posed.capture.warnings) ctx.log(warning);
    ctx.progress(0.9, 'hash');
    const source = await stillSource(
      posed.capture.frames.map((f) => f.imagePath),
      request.displayNames[0],
      ctx.signal,
    );
    scene = {
      name: request.name ?? label,
      kind: 'photos',
      source,
      frames: posed.frames,
    };
  } else if (plan.kind === 'video') {
    const displayName = request.displayNames[0];
    ctx.log(`Reading ${displayName}`);
    const ffmpeg = await studio.ffmpeg();
    // Without an explicit count, a short clip gives all it has rather than failing.
    const frameCount =
      request.frames ??
      Math.max(
        2,
        Math.min(studio.defaultFrameCount, (await probeVideo(plan.path, ffmpeg, ctx.signal)).frameCount),
      );
    const { source, frames } = await importVideo(plan.path, {
      frameCount,
      ffmpeg,
      signal: ctx.signal,
      onProgress,
    });
    scene = {
      name: request.name ?? stripExt(displayName),
      kind: 'video',
      source: { ...source, fileName: displayName },
      frames: frames.map(toNewFrame),
    };
  } else if (plan.kind === 'photos') {
    const label = plan.folder
      ? basename(plan.folder)
      : request.paths.length === 1
        ? request.displayNames[0]
        : `${plan.paths.length} photos`;
    ctx.log(`Reading ${plan.paths.length} photo${plan.paths.length === 1 ? '' : 's'}`);
    const { frames } = await importPhotos(plan.paths, { signal: ctx.signal, onProgress });
    ctx.progress(0.9, 'hash');
    const source = await stillSource(plan.paths, label, ctx.signal);
    scene = {
      name: request.name ?? stripExt(label),
      kind: 'photos',
      source,
      frames: request.frames ? selectPhotos(frames.map(toNewFrame), request.frames) : frames.map(toNewFrame),
    };
  } else {
    const displayName = request.displayNames[0];
    ctx.log(`Reading ${displayName}`);
    // Loaded on demand: the glTF/PLY readers are not needed by most imports.
    const { importPointCloud } = await import('../pointcloud/import-point-cloud');
    const cloud = await importPointCloud(plan.path, {
      signal: ctx.signal,
      onProgress: (progress, stage) => ctx.progress(0.8 * progress, stage),
    });
    ctx.throwIfCancelled();
    droppedNonFinite = cloud.droppedNonFinite;
    if (droppedNonFinite > 0)
      ctx.log(
        `Left out ${droppedNonFinite} point${droppedNonFinite === 1 ? '' : 's'} with NaN or infinite coordinates; ${cloud.count} kept`,
      );
    ctx.progress(0.8, 'hash');
    const source = await stillSource([plan.path], displayName, ctx.signal);
    scene = {
      name: request.name ?? stripExt(displayName),
      kind: 'pointcloud',
      source,
      frames: [],
      points: { positions: cloud.positions, colors: cloud.colors, count: cloud.count },
    };
  }
  ctx.throwIfCancelled();
  ctx.progress(0.92, 'store');
  const { library } = studio;
  // The scene and its job's success row are one transaction: a kill cannot
  // leave a stored scene whose import reads as failed.
  const summary = library.db.transaction(() => {
    let created = library.scenes.create(scene);
    if (posed) {
      // The capture's cameras and points are stored as the scene's reconstruction, in the same transaction.
      const frameIds = library.scenes.get(created.id)?.frames.map((f) => f.id) ?? [];
      library.scenes.saveReconstruction(created.id, posed.reconstruction(frameIds));
      created = library.scenes.summary(created.id) ?? created;
    }
    ctx.recordSuccess(importResult(created, droppedNonFinite, found), created.id);
    return created;
  })();
  ctx.setScene(summary.id);
  studio.emit({ type: 'scenes-changed', sceneId: summary.id, parts: ['meta', 'points', 'frames', 'edits'] });
  return importResult(summary, droppedNonFinite, found);
}

/** JobInfo.result of an import. */
export type ImportResult = {
  sceneId: string;
  name: string;
  frameCount: number;
  /** Points stored: what every export of the scene will contain. */
  pointCount: number;
  /** Points of the file left out for NaN/infinite coordinates (0 for videos and photos). */
  droppedNonFinite: number;
  /** A posed capture's contents in words ("COLMAP model (text, sparse/0): 8 images, 1 camera, 300 points"). */
  found?: string;
};

function importResult(summary: SceneSummary, droppedNonFinite: number, found?: string): ImportResult {
  return {
    sceneId: summary.id,
    name: summary.name,
    frameCount: summary.frameCount,
    pointCount: summary.pointCount,
    droppedNonFinite,
    ...(found ? { found } : {}),
  };
}
