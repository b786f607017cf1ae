// Exports of what the user sees — the edited cloud, levelled, in metres once
// scaled: point clouds (PLY/GLB, written into <library>/exports/<id>/ for the
// blob route to serve) and camera formats (COLMAP, nerfstudio) as jobs.

import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { StudioError } from '../../common/errors';
import { editedPointCloud } from '../cleanup/apply-edits';
import { sceneWorldTransform, transformCameras, transformCloud } from '../geometry/world-transform';
import { exportSceneCameras } from '../jobs/export-cameras';
import { sceneNotFound } from '../jobs/reconstruct-scene';
import { newId } from '../library/ids';
import { safeFileName } from '../uploads';
import type { HandlerContext, HandlerGroup } from './handler-context';

export function exportHandlers(ctx: HandlerContext): HandlerGroup<'scenes.export' | 'scenes.exportCameras'> {
  const { library, queue, editor, requireScene } = ctx;
  return {
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
        const { exportPointCloud } = await import('../pointcloud/export-point-cloud');
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
        run: async (jobCtx) => ({
          ...(await exportSceneCameras(
            ctx.jobs,
            editor,
            { ...input, baseName: safeFileName(scene.name, 'scene') },
            jobCtx,
          )),
        }),
        describeSuccess: (result) =>
          `Exported ${Number(result?.cameraCount)} cameras and ${Number(result?.pointCount)} points to ${String(result?.dir ?? result?.fileName)}.`,
      });
      return { jobId: job.id };
    },
  };
}
