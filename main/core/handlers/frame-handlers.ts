// Which frames a reconstruction uses: select or deselect frames by hand, or run
// the automatic selection again with a new count. A reconstruction reads the
// selection when it starts and records the frames it used (its cameras), so
// the selection may change freely between reconstructions but never under one
// that is queued or running, in this process or another one on the library.

import type { SceneDetail } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { reselectFrames } from '../ingest/frame-reselection';
import { sceneNotFound } from '../jobs/reconstruct-scene';
import type { HandlerContext, HandlerGroup } from './handler-context';

type FrameOperation = 'scenes.selectFrames' | 'scenes.reselectFrames';

/** Frame ids named in a refusal; the rest are counted. */
const NAMED_IDS = 5;

export function frameHandlers(ctx: HandlerContext): HandlerGroup<FrameOperation> {
  const { library, emit } = ctx;

  const requireDetail = (sceneId: string): SceneDetail => {
    const scene = library.scenes.get(sceneId);
    if (!scene) throw sceneNotFound(sceneId);
    return scene;
  };

  /** Refuses while a reconstruction of the scene is queued or running (it reads the selection when it starts). */
  const refuseWhileReconstructing = (scene: SceneDetail): void => {
    // Jobs left unfinished by a process that is gone must not hold the scene forever.
    library.jobs.failInterrupted();
    const job = library.jobs
      .list(scene.id)
      .find((j) => j.kind === 'reconstruct' && (j.status === 'queued' || j.status === 'running'));
    if (!job) return;
    throw new StudioError(
      'busy',
      `A reconstruction of "${scene.name}" is ${job.status === 'queued' ? 'waiting to run' : 'running'} (job ${job.id}); its frames cannot change under it.`,
      'Wait for it to finish, or cancel it in Jobs, then change the selection.',
    );
  };

  const refuseWithoutFrames = (scene: SceneDetail): void => {
    if (scene.frames.length > 0) return;
    throw new StudioError(
      'invalid-input',
      `"${scene.name}" has no frames to select (it is a ${scene.kind} scene).`,
      'Frames come from a video or photos: import one to reconstruct from it.',
    );
  };

  /** Store the new selection (only what changed), tell the front doors, return the scene as it is now. */
  const commit = (scene: SceneDetail, selected: ReadonlyMap<string, boolean>): SceneDetail => {
    const changes = new Map<number, boolean>();
    for (const frame of scene.frames) {
      const wanted = selected.get(frame.id);
      if (wanted !== undefined && wanted !== frame.selected) changes.set(frame.index, wanted);
    }
    if (changes.size === 0) return scene;
    library.scenes.setFrameSelection(scene.id, changes);
    emit({ type: 'scenes-changed', sceneId: scene.id, parts: ['frames'] });
    return requireDetail(scene.id);
  };

  return {
    'scenes.selectFrames': async ({ sceneId, frameIds, selected }) => {
      const scene = requireDetail(sceneId);
      refuseWithoutFrames(scene);
      refuseWhileReconstructing(scene);
      const own = new Set(scene.frames.map((frame) => frame.id));
      const foreign = [...new Set(frameIds)].filter((frameId) => !own.has(frameId));
      if (foreign.length > 0) {
        const named = foreign.slice(0, NAMED_IDS).join(', ');
        const more = foreign.length > NAMED_IDS ? ` and ${foreign.length - NAMED_IDS} more` : '';
        throw new StudioError(
          'not-found',
          `${foreign.length === 1 ? 'Frame' : 'Frames'} ${named}${more} ${foreign.length === 1 ? 'is' : 'are'} not ${foreign.length === 1 ? 'a frame' : 'frames'} of "${scene.name}"; the selection was not changed.`,
          `Use the ids of the scene's own frames (g2studio frames ${scene.id} --json lists them).`,
        );
      }
      return commit(scene, new Map(frameIds.map((frameId) => [frameId, selected])));
    },

    'scenes.reselectFrames': async ({ sceneId, count }) => {
      const scene = requireDetail(sceneId);
      refuseWithoutFrames(scene);
      refuseWhileReconstructing(scene);
      const picks = await reselectFrames(
        scene.kind,
        scene.frames,
        count,
        (frameId) => library.scenes.frameImage(frameId)?.bytes ?? null,
      );
      // The frames were measured off the event loop: check nothing moved meanwhile.
      const now = requireDetail(sceneId);
      refuseWhileReconstructing(now);
      if (now.frames.map((f) => f.id).join() !== scene.frames.map((f) => f.id).join()) {
        throw new StudioError(
          'busy',
          `The frames of "${scene.name}" changed while the selection was being made.`,
          'Run the selection again.',
        );
      }
      return commit(now, new Map(now.frames.map((frame, i) => [frame.id, picks[i]])));
    },
  };
}
