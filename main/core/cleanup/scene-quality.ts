// One call for the studio: everything the edit stack needs from a
// reconstruction, per point of the scene cloud (see frame-maps.ts for how
// pixels map to points).

import { StudioError } from '../../common/errors';
import type { CleanupTaskOptions } from './cleanup-task';
import { depthEdgeScores } from './depth-edges';
import {
  finitePixelIndices,
  perPointFromPerPixel,
  pointFramesFromPixels,
  worldPointsFromMaps,
  type FramePointMaps,
} from './frame-maps';
import { multiViewInconsistency } from './multiview-consistency';
import type { EditBase } from './apply-edits';

export interface SceneQuality {
  pointFrames: Uint16Array | Uint32Array;
  scores: { depthEdge: Float32Array; inconsistency: Float32Array };
}

/**
 * Per-point frame indices and map-based quality scores for a scene cloud of
 * `scenePointCount` points built from `maps`. `frameIndexOfMap[n]` is the
 * CameraInfo.frameIndex of map n.
 */
export async function sceneQualityFromMaps(
  maps: FramePointMaps,
  frameIndexOfMap: readonly number[],
  scenePointCount: number,
  opts: CleanupTaskOptions & { tolerance?: number } = {},
): Promise<SceneQuality> {
  const pixelIndex = finitePixelIndices(worldPointsFromMaps(maps));
  if (pixelIndex.length !== scenePointCount) {
    throw new StudioError(
      'invalid-input',
      `The scene has ${scenePointCount} points but its reconstruction maps hold ${pixelIndex.length}; the scene was changed outside the studio.`,
      'Reconstruct the scene again.',
    );
  }
  const inconsistency = await multiViewInconsistency(maps, opts);
  return {
    pointFrames: pointFramesFromPixels(pixelIndex, maps.width * maps.height, frameIndexOfMap),
    scores: {
      depthEdge: perPointFromPerPixel(depthEdgeScores(maps), pixelIndex),
      inconsistency: perPointFromPerPixel(inconsistency, pixelIndex),
    },
  };
}

/** The EditBase of a reconstructed scene. */
export function editBaseOf(cloud: EditBase['cloud'], quality: SceneQuality | null): EditBase {
  return quality
    ? { cloud, pointFrames: quality.pointFrames, scores: quality.scores }
    : { cloud, pointFrames: null };
}
