// scenes.export as a job: the scene's point cloud as the user sees it (the
// edit stack replayed, levelled, in metres once scaled) written as PLY or GLB
// into a new folder under <library>/exports for the blob route to serve.
// Stages: 'edits' (replaying the edit stack), then 'write'. A cancel or a
// failure at any point removes the folder, so no partial file is left.

import { join } from 'node:path';
import type { ExportResult } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { editedPointCloud } from '../cleanup/apply-edits';
import type { SceneEditor } from '../editing/scene-editor';
import { sceneWorldTransform, transformCameras, transformCloud } from '../geometry/world-transform';
import { newExportFolder, removeExport } from '../library/export-files';
import type { Library } from '../library/library';
import type { UpAxis } from '../pointcloud/axes';
import type { JobContext } from './job-queue';
import { sceneNotFound } from './reconstruct-scene';

export interface ExportPointsInput {
  sceneId: string;
  format: 'ply' | 'glb';
  encoding?: 'binary' | 'ascii';
  upAxis?: UpAxis;
  /** File-name stem (the scene's name, made safe). */
  baseName: string;
}

/** Share of the job's progress taken by replaying the edits; writing takes the rest. */
const EDITS_SHARE = 0.3;

/** Refuse at once what cannot be exported, before a job is queued. */
export function checkPointsExportable(library: Library, sceneId: string): void {
  const scene = library.scenes.summary(sceneId);
  if (!scene) throw sceneNotFound(sceneId);
  if (scene.pointCount === 0) {
    throw new StudioError(
      'not-found',
      `"${scene.name}" has no point cloud to export yet.`,
      'Reconstruct the scene first (scenes.reconstruct / g2studio reconstruct).',
    );
  }
}

export async function exportScenePoints(
  library: Library,
  editor: SceneEditor,
  input: ExportPointsInput,
  ctx: JobContext,
): Promise<ExportResult> {
  const scene = library.scenes.get(input.sceneId);
  if (!scene) throw sceneNotFound(input.sceneId);
  ctx.progress(0, 'edits');
  // What the user sees: the edited cloud, levelled and in metres when set.
  const edited = await editor.result(scene.id, { signal: ctx.signal });
  ctx.throwIfCancelled();
  const world = sceneWorldTransform(scene);
  const points = transformCloud(editedPointCloud(edited), world);
  if (points.count === 0) {
    throw new StudioError(
      'invalid-input',
      `The edits of "${scene.name}" removed every point, so there is nothing to export.`,
      'Undo the last edits (Ctrl+Z / g2studio edit undo) and export again.',
    );
  }
  ctx.progress(EDITS_SHARE, 'write');
  const { exportId, dir } = await newExportFolder(library.exportsDir);
  const fileName = `${input.baseName}.${input.format}`;
  try {
    // Loaded on demand: the writers pull in glTF-Transform.
    const { exportPointCloud } = await import('../pointcloud/export-point-cloud');
    const { bytes, pointCount } = await exportPointCloud(join(dir, fileName), points, {
      format: input.format,
      encoding: input.format === 'ply' ? (input.encoding ?? 'binary') : undefined,
      upAxis: input.upAxis,
      cameras: transformCameras(scene.cameras, world),
      signal: ctx.signal,
      onProgress: (progress) => ctx.progress(EDITS_SHARE + (1 - EDITS_SHARE) * progress, 'write'),
    });
    ctx.throwIfCancelled();
    return { exportId, fileName, bytes, format: input.format, pointCount };
  } catch (error) {
    await removeExport(library.exportsDir, exportId);
    throw error;
  }
}
