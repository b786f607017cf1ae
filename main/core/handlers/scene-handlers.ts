// Scenes: list, read, rename, delete, import, reconstruct, and the two scene
// settings that change how every later step sees the scene (scale, ground).

import { stat } from 'node:fs/promises';
import { fitGroundPlane, levellingTransform } from '../geometry/ground-plane';
import { metresPerUnitFromKnownDistance } from '../geometry/measure';
import { unreadablePathError } from '../ingest/media-kind';
import { importScene } from '../jobs/import-scene';
import { reconstructScene, sceneNotFound } from '../jobs/reconstruct-scene';
import type { HandlerContext, HandlerGroup } from './handler-context';

type SceneOperation =
  | 'scenes.list'
  | 'scenes.get'
  | 'scenes.rename'
  | 'scenes.delete'
  | 'scenes.import'
  | 'scenes.reconstruct'
  | 'scenes.setScale'
  | 'scenes.setGround';

export function sceneHandlers(ctx: HandlerContext): HandlerGroup<SceneOperation> {
  const { library, queue, models, editor, emit, requireScene } = ctx;
  return {
    'scenes.list': async () => library.scenes.list(),

    'scenes.get': async ({ sceneId }) => {
      const scene = library.scenes.get(sceneId);
      if (!scene) throw sceneNotFound(sceneId);
      return scene;
    },

    'scenes.rename': async ({ sceneId, name }) => {
      const renamed = library.scenes.rename(sceneId, name);
      if (!renamed) throw sceneNotFound(sceneId);
      emit({ type: 'scenes-changed', sceneId, parts: ['meta'] });
      return renamed;
    },

    'scenes.delete': async ({ sceneId }) => {
      if (!library.scenes.delete(sceneId)) throw sceneNotFound(sceneId);
      editor.forget(sceneId);
      queue.forgetFinished(sceneId);
      emit({ type: 'scenes-changed', sceneId, parts: ['meta', 'points', 'frames', 'edits'] });
      return { deleted: true as const };
    },

    'scenes.import': async (input) => {
      // Resolve uploads now so a bad upload id is an error of the call, not of a job.
      const { paths, displayNames } = await ctx.uploads.resolve(input.sources);
      // A path that is not there is the caller's mistake: say so now, not in a job.
      for (const path of paths) {
        await stat(path).catch((error: unknown) => {
          throw unreadablePathError(path, error);
        });
      }
      const uploadIds = input.sources.flatMap((s) => (s.kind === 'upload' ? [s.uploadId] : []));
      const title = paths.length === 1 ? `Import ${displayNames[0]}` : `Import ${paths.length} files`;
      const job = queue.enqueue({
        kind: 'import',
        title,
        run: async (jobCtx) => {
          try {
            return await importScene(
              ctx.jobs,
              { paths, displayNames, frames: input.frames, name: input.name },
              jobCtx,
            );
          } finally {
            // The scene holds everything now (or the import failed): the uploaded files go either way.
            await Promise.all(uploadIds.map((uploadId) => ctx.uploads.release(uploadId)));
          }
        },
        describeSuccess: (result) =>
          typeof result?.found === 'string'
            ? `Imported "${String(result.name)}" from a ${result.found}.`
            : `Imported "${String(result?.name)}": ${Number(result?.frameCount)} frames, ${Number(result?.pointCount)} points.`,
      });
      return { jobId: job.id };
    },

    'scenes.reconstruct': async (input) => {
      const scene = requireScene(input.sceneId);
      const modelId = models.pinModel(input.modelId);
      const job = queue.enqueue({
        kind: 'reconstruct',
        title: `Reconstruct ${scene.name}`,
        sceneId: scene.id,
        run: (jobCtx) => reconstructScene(ctx.jobs, { ...input, modelId }, jobCtx),
        describeSuccess: (result) =>
          `Reconstructed "${scene.name}": ${Number(result?.frameCount)} frames, ${Number(result?.pointCount)} points.`,
      });
      models.trackJob(job.id, modelId);
      return { jobId: job.id };
    },

    // Thin wrappers over the edit stack: the input becomes a scale or ground
    // edit (so Ctrl+Z and `g2studio edit undo` take it back), and the scene's
    // summary reads its value from the stack.
    'scenes.setScale': async ({ sceneId, scale }) => {
      requireScene(sceneId);
      const metresPerUnit =
        scale.kind === 'none'
          ? null
          : scale.kind === 'metres-per-unit'
            ? scale.value
            : metresPerUnitFromKnownDistance(scale.a, scale.b, scale.metres);
      editor.pushSetting(sceneId, { kind: 'scale', params: { metresPerUnit } });
      emit({ type: 'scenes-changed', sceneId, parts: ['meta', 'edits'] });
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
      editor.pushSetting(sceneId, { kind: 'ground', params: { levelledFromScene: alignment } });
      emit({ type: 'scenes-changed', sceneId, parts: ['meta', 'edits'] });
      return requireScene(sceneId);
    },
  };
}
