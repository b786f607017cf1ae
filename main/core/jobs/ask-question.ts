// qa.ask: a spatial question over a saved scene, answered offline by G2VLM's
// chat path. Tokens stream out as qa-token events; the finished answer is kept
// in the scene's history with the model, precision and time, together with
// any values the reconstruction gives for the marked points.

import type { GeometricEvidence, Marker, QaEntry } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { markerEvidence, type MarkerGeometry } from '../geometry/marker-evidence';
import { frameMarkerForPoint, type PointMarker } from '../geometry/point-marker';
import { CHAT_MAX_FRAMES, chooseChatFrames, cpuNodesLine } from '../../model';
import { newId, nowIso } from '../library/ids';
import type { JobContext } from './job-queue';
import { chooseModel } from './model-choice';
import { sceneNotFound } from './reconstruct-scene';
import type { StudioContext } from './studio-context';

export interface AskRequest {
  sceneId: string;
  question: string;
  markers?: Marker[];
  /** Markers placed in 3D; each is drawn on the frame that sees it best (geometry/point-marker.ts). */
  pointMarkers?: PointMarker[];
  modelId?: string;
}

export async function askQuestion(
  studio: StudioContext,
  input: AskRequest,
  ctx: JobContext,
): Promise<{ qaId: string; answer: string; sceneId: string }> {
  const { library } = studio;
  const scene = library.scenes.get(input.sceneId);
  if (!scene) throw sceneNotFound(input.sceneId);
  const model = chooseModel(library, input.modelId, 'chat');
  const framesByIndex = new Map(scene.frames.map((f) => [f.index, f]));
  const reconstruction = library.scenes.reconstruction(scene.id);
  const frameIndices = scene.cameras.map((c) => c.frameIndex);
  const geometry: MarkerGeometry | null = reconstruction
    ? {
        frameIndices,
        frameSizes: frameIndices.map((i) => framesByIndex.get(i) ?? { width: 1, height: 1 }),
        mapWidth: reconstruction.info.mapWidth,
        mapHeight: reconstruction.info.mapHeight,
        worldFromCamera: reconstruction.worldFromCamera,
        localPointMaps: reconstruction.localPointMaps,
      }
    : null;
  const markers = [...(input.markers ?? [])];
  for (const pointMarker of input.pointMarkers ?? []) {
    if (!geometry) {
      throw new StudioError(
        'invalid-input',
        `The ${pointMarker.color} marker is placed in 3D, but "${scene.name}" has no reconstruction to place it with.`,
        'Reconstruct the scene first, or place the marker on a frame.',
      );
    }
    const onFrame = frameMarkerForPoint(pointMarker, geometry, scene.cameras);
    if (!onFrame) {
      throw new StudioError(
        'invalid-input',
        `No frame of "${scene.name}" sees the ${pointMarker.color} 3D point (it is hidden or outside every image).`,
        'Pick a point the cameras saw, or place the marker on a frame.',
      );
    }
    markers.push(onFrame);
  }
  for (const marker of markers) {
    const frame = framesByIndex.get(marker.frameIndex);
    if (!frame) {
      throw new StudioError(
        'invalid-input',
        `The ${marker.color} marker is on frame ${marker.frameIndex}, which "${scene.name}" does not have.`,
        `Place markers on frames 0..${Math.max(0, scene.frames.length - 1)}.`,
      );
    }
    if (marker.x < 0 || marker.y < 0 || marker.x > frame.width || marker.y > frame.height) {
      throw new StudioError(
        'invalid-input',
        `The ${marker.color} marker (${marker.x}, ${marker.y}) is outside frame ${marker.frameIndex} (${frame.width}x${frame.height}).`,
        'Place markers inside the frame, in displayed-frame pixels.',
      );
    }
  }
  // The model sees the selected frames plus any frame a marker is on.
  const markedIndices = new Set(markers.map((m) => m.frameIndex));
  const candidates = library.scenes
    .frameImages(scene.id, { selectedOnly: false })
    .filter((f) => markedIndices.has(f.index) || framesByIndex.get(f.index)?.selected);
  // At most CHAT_MAX_FRAMES go to the model: marked frames first, then evenly spaced.
  const frames = chooseChatFrames(candidates.map((f) => markedIndices.has(f.index))).map(
    (i) => candidates[i],
  );
  if (frames.length === 0) {
    throw new StudioError(
      'too-few-frames',
      `"${scene.name}" has no frames to ask about (it is a ${scene.kind} scene).`,
      'Ask about a scene imported from a video or photos.',
    );
  }
  ctx.progress(0, 'prepare');
  // The engine draws the markers on its own decode of each frame, as the official
  // training data marks points (filled 20 px discs in PIL's colours), so "the red
  // point" means what the model learned.
  const frameInputs = frames.map((f) => ({
    bytes: f.bytes,
    name: f.fileName ?? `frame ${f.index}`,
    markers: markers
      .filter((m) => m.frameIndex === f.index)
      .map((m) => ({ kind: 'point' as const, x: m.x, y: m.y, color: m.color })),
  }));
  ctx.throwIfCancelled();
  const engine = await studio.engine();
  ctx.log(
    `Asking ${model.name} about "${scene.name}" with frames ${frames.map((f) => f.index).join(', ')}` +
      (candidates.length > frames.length
        ? ` (${frames.length} of ${candidates.length}, at most ${CHAT_MAX_FRAMES})`
        : ''),
  );
  const output = await engine.chat(
    {
      modelDir: model.path,
      frames: frameInputs,
      question: input.question,
      executionProvider: studio.executionProvider,
      // Markers change the pixels, so only unmarked questions share a cached prefill.
      prefixCacheKey: markers.length ? undefined : `${scene.id}:${frames.map((f) => f.frameId).join(',')}`,
      // Measured stage speeds (shared with reconstruction: the same DINO and geometry graphs).
      stageRates: library.stageRates.list(model.id),
    },
    {
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.progress(
          0.98 * p.progress,
          p.stage,
          // The engine's time covers the stages before the answer; the answer's length is unknown.
          p.estimate
            ? { secondsLeft: p.secondsLeft ?? null, estimate: p.estimate, leftUntil: 'answer' }
            : undefined,
        ),
      onToken: (text) => studio.emit({ type: 'qa-token', jobId: ctx.jobId, sceneId: scene.id, text }),
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
  let evidence: GeometricEvidence[] = [];
  if (geometry && markers.length) evidence = markerEvidence(geometry, markers, scene.metresPerUnit);
  const entry: QaEntry = {
    id: newId('qa'),
    sceneId: scene.id,
    question: input.question,
    answer: output.answer,
    markers,
    evidence,
    modelId: model.id,
    precision: output.precision,
    executionProvider: output.executionProvider,
    timingsMs: output.timingsMs,
    createdAt: nowIso(),
  };
  // Which frames the model saw (the cap may leave some out).
  const result = {
    qaId: entry.id,
    answer: entry.answer,
    sceneId: scene.id,
    frameIndices: frames.map((f) => f.index),
    frameIds: frames.map((f) => f.frameId),
  };
  // The history entry and the job's success row commit together.
  library.db.transaction(() => {
    if (!library.scenes.summary(scene.id)) throw sceneNotFound(scene.id);
    library.qa.add(entry);
    ctx.recordSuccess(result, scene.id);
  })();
  return result;
}
