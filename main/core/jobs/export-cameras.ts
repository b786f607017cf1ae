// scenes.exportCameras: a COLMAP text model or nerfstudio transforms.json of
// the scene as the user sees it — the edited points, the chosen frames, in
// metres once scaled and levelled once a ground is set — written as a folder
// (outDir) or as a zip to download.

import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CameraExportResult } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { exportColmapText } from '../camera-export/colmap-text';
import type { ExportFrame } from '../camera-export/export-scene';
import { exportNerfstudio } from '../camera-export/nerfstudio-transforms';
import { zipFolder } from '../camera-export/zip-folder';
import { editedPointCloud } from '../cleanup/apply-edits';
import type { SceneEditor } from '../editing/scene-editor';
import { newExportFolder, removeExport } from '../library/export-files';
import type { JobContext } from './job-queue';
import { sceneNotFound } from './reconstruct-scene';
import type { StudioContext } from './studio-context';

export interface ExportCamerasInput {
  sceneId: string;
  format: 'colmap' | 'nerfstudio';
  frameIds?: string[];
  /** A folder to create; without it the export becomes a zip under the library's exports. */
  outDir?: string;
  /** File-name stem of the zip (the scene's name, made safe). */
  baseName: string;
}

export async function exportSceneCameras(
  studio: StudioContext,
  editor: SceneEditor,
  input: ExportCamerasInput,
  ctx: JobContext,
): Promise<CameraExportResult> {
  const { library } = studio;
  const scene = library.scenes.get(input.sceneId);
  if (!scene) throw sceneNotFound(input.sceneId);
  if (scene.cameras.length === 0) {
    throw new StudioError(
      'invalid-input',
      `"${scene.name}" has no cameras to export.`,
      'Reconstruct the scene first; imported point clouds export as PLY or GLB.',
    );
  }
  const framesById = new Map(scene.frames.map((f) => [f.id, f]));
  const wanted = input.frameIds ? new Set(input.frameIds) : null;
  for (const frameId of wanted ?? []) {
    if (!framesById.has(frameId))
      throw new StudioError(
        'not-found',
        `Frame ${frameId} is not part of "${scene.name}".`,
        'Pick frames of this scene.',
      );
  }
  ctx.progress(0, 'points');
  const edited = await editor.result(scene.id, { signal: ctx.signal });
  const hidden = new Set(edited.hiddenFrames);
  const images = new Map(
    library.scenes.frameImages(scene.id, { selectedOnly: false }).map((f) => [f.frameId, f]),
  );
  const frames: ExportFrame[] = [];
  for (const camera of scene.cameras) {
    if (!camera.frameId) continue;
    const frame = framesById.get(camera.frameId);
    const image = images.get(camera.frameId);
    if (!frame || !image) continue;
    // Default: the frames the scene shows (selected, not hidden by an edit).
    if (wanted ? !wanted.has(frame.id) : !frame.selected || hidden.has(camera.frameIndex)) continue;
    frames.push({
      camera,
      image: { bytes: image.bytes, mime: image.mime, width: frame.width, height: frame.height },
    });
  }
  const exportInput = {
    frames,
    points: editedPointCloud(edited),
    metresPerUnit: scene.metresPerUnit,
    worldTransform: scene.groundAlignment ?? undefined,
  };
  const write = input.format === 'colmap' ? exportColmapText : exportNerfstudio;
  const onProgress = (p: number, stage: string): void => ctx.progress(0.05 + 0.8 * p, stage);
  if (input.outDir) {
    const written = await write(input.outDir, exportInput, { signal: ctx.signal, onProgress });
    return {
      exportId: null,
      fileName: basename(input.outDir),
      bytes: written.bytes,
      format: input.format,
      cameraCount: written.cameraCount,
      pointCount: written.pointCount,
      dir: written.dir,
    };
  }
  const { exportId, dir: exportDir } = await newExportFolder(library.exportsDir);
  const folderName = `${input.baseName}-${input.format}`;
  const staging = join(exportDir, `.${folderName}`);
  try {
    const written = await write(staging, exportInput, { signal: ctx.signal, onProgress });
    ctx.progress(0.85, 'zip');
    const fileName = `${folderName}.zip`;
    const bytes = await zipFolder(staging, written.files, join(exportDir, fileName), {
      signal: ctx.signal,
      what: 'The export',
    });
    ctx.progress(1, 'done');
    return {
      exportId,
      fileName,
      bytes,
      format: input.format,
      cameraCount: written.cameraCount,
      pointCount: written.pointCount,
      dir: null,
    };
  } catch (error) {
    await removeExport(library.exportsDir, exportId);
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
