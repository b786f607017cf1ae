// scenes.reconstruct: the scene's selected frames go to the engine (worker
// thread); the output is stored in one transaction that replaces the scene's
// cameras, point cloud and previous reconstruction.

import { StudioError } from '../../common/errors';
import { cpuNodesLine } from '../../model';
import { reconstructionRecord } from '../library/reconstruction-record';
import type { JobContext } from './job-queue';
import { chooseModel } from './model-choice';
import type { StudioContext } from './studio-context';

export async function reconstructScene(
  studio: StudioContext,
  input: { sceneId: string; modelId?: string },
  ctx: JobContext,
): Promise<{ sceneId: string; reconstructionId: string; pointCount: number; frameCount: number }> {
  const { library } = studio;
  const scene = library.scenes.get(input.sceneId);
  if (!scene) throw sceneNotFound(input.sceneId);
  const model = chooseModel(library, input.modelId, 'reconstruct');
  const frames = library.scenes.frameImages(scene.id, { selectedOnly: true });
  if (frames.length < 2) {
    throw new StudioError(
      'too-few-frames',
      scene.frames.length === 0
        ? `"${scene.name}" has no frames to reconstruct from (it is a ${scene.kind} scene).`
        : `"${scene.name}" has ${frames.length} selected frame${frames.length === 1 ? '' : 's'}; reconstruction needs at least 2.`,
      'Import a video or several photos of the place, or select more frames.',
    );
  }
  // The engine checks memory itself (it knows the model's resolution) and
  // refuses with 'insufficient-memory' before loading anything.
  const engine = await studio.engine();
  ctx.throwIfCancelled();
  ctx.log(`Reconstructing ${frames.length} frames of "${scene.name}" with ${model.name}`);
  const output = await engine.reconstruct(
    {
      modelDir: model.path,
      frames: frames.map((f) => ({ bytes: f.bytes, name: f.fileName ?? `frame ${f.index}` })),
      executionProvider: studio.executionProvider,
      // This machine's measured speed of the model's stages: the bar moves
      // inside the long stages by them, and the time left comes from them.
      stageRates: library.stageRates.list(model.id),
    },
    {
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.progress(
          0.95 * p.progress,
          p.stage,
          p.estimate ? { secondsLeft: p.secondsLeft ?? null, estimate: p.estimate } : undefined,
        ),
    },
  );
  ctx.throwIfCancelled();
  if (output.stageMeasurements) {
    try {
      library.stageRates.record(model.id, output.executionProvider, output.stageMeasurements);
    } catch {
      // A rate that cannot be stored (model removed meanwhile) only costs the next estimate.
    }
  }
  // One plain line says where the model ran, and why any graph fell back to the CPU.
  ctx.log(`Ran on ${output.executionProvider}`);
  for (const note of output.providerNotes ?? []) ctx.log(note);
  const placement = output.cpuNodes
    ? cpuNodesLine(output.executionProvider, { ...output, cpuNodes: output.cpuNodes })
    : undefined;
  if (placement) ctx.log(placement);
  ctx.progress(0.96, 'store');
  const record = reconstructionRecord(
    output,
    frames.map((f) => ({ frameId: f.frameId, index: f.index })),
    { modelId: model.id },
  );
  // One transaction: the reconstruction and its job's success row (a kill
  // leaves neither or both), and nothing if the scene was deleted meanwhile.
  const result = library.db.transaction(() => {
    if (!library.scenes.summary(scene.id)) throw sceneNotFound(scene.id);
    const info = library.scenes.saveReconstruction(scene.id, record);
    const stored = {
      sceneId: scene.id,
      reconstructionId: info.id,
      pointCount: record.points.count,
      frameCount: frames.length,
    };
    ctx.recordSuccess(stored, scene.id);
    return stored;
  })();
  studio.emit({ type: 'scenes-changed', sceneId: input.sceneId, parts: ['meta', 'points', 'edits'] });
  return result;
}

export function sceneNotFound(sceneId: string): StudioError {
  return new StudioError(
    'not-found',
    `There is no scene ${sceneId}.`,
    'List scenes (g2studio list) to see their ids.',
  );
}
