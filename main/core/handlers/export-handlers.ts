// Exports of what the user sees — the edited cloud, levelled, in metres once
// scaled — as jobs: point clouds (PLY/GLB, written into <library>/exports/<id>/
// for the blob route to serve) and camera formats (COLMAP, nerfstudio).

import { isAbsolute } from 'node:path';
import { StudioError } from '../../common/errors';
import { formatByteSize } from '../../common/format-bytes';
import { exportSceneCameras } from '../jobs/export-cameras';
import { checkPointsExportable, exportScenePoints } from '../jobs/export-points';
import { safeFileName } from '../uploads';
import type { HandlerContext, HandlerGroup } from './handler-context';

export function exportHandlers(ctx: HandlerContext): HandlerGroup<'scenes.export' | 'scenes.exportCameras'> {
  const { library, queue, editor, requireScene } = ctx;
  return {
    'scenes.export': async (input) => {
      // Refused at once (no job) when there is nothing to export.
      checkPointsExportable(library, input.sceneId);
      const scene = requireScene(input.sceneId);
      const job = queue.enqueue({
        kind: 'export',
        title: `Export ${scene.name} (${input.format.toUpperCase()})`,
        sceneId: scene.id,
        run: async (jobCtx) => ({
          ...(await exportScenePoints(
            library,
            editor,
            { ...input, baseName: safeFileName(scene.name, 'scene') },
            jobCtx,
          )),
        }),
        describeSuccess: (result) =>
          `Exported ${Number(result?.pointCount).toLocaleString('en-US')} points as ${String(result?.fileName)} (${formatByteSize(Number(result?.bytes))}).`,
      });
      return { jobId: job.id };
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
