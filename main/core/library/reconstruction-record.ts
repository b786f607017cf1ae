// Turns the engine's ReconstructionOutput into what the library stores: the
// scene point cloud (finite world points with their colours), one camera per
// frame (pose + fitted intrinsics) and the per-frame local point maps.

import type { CameraInfo } from '../../common/domain';
import type { ReconstructionOutput } from '../../model';
import { estimateIntrinsics } from '../geometry/intrinsics';
import type { NewReconstruction, ScenePoints } from './scene-store';

export interface ReconstructedFrame {
  frameId: string;
  index: number;
}

/** Keep only finite points (the model can emit NaN/Inf at sky or invalid pixels). */
export function finiteWorldPoints(worldPoints: Float32Array, colors: Uint8Array | null): ScenePoints {
  const total = Math.floor(worldPoints.length / 3);
  let count = 0;
  for (let i = 0; i < total; i++) {
    if (
      Number.isFinite(worldPoints[3 * i]) &&
      Number.isFinite(worldPoints[3 * i + 1]) &&
      Number.isFinite(worldPoints[3 * i + 2])
    )
      count++;
  }
  if (count === total) {
    return {
      positions: worldPoints,
      colors: colors && colors.length === worldPoints.length ? colors : null,
      count,
    };
  }
  const positions = new Float32Array(count * 3);
  const keptColors = colors && colors.length === worldPoints.length ? new Uint8Array(count * 3) : null;
  let out = 0;
  for (let i = 0; i < total; i++) {
    const x = worldPoints[3 * i],
      y = worldPoints[3 * i + 1],
      z = worldPoints[3 * i + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    positions[3 * out] = x;
    positions[3 * out + 1] = y;
    positions[3 * out + 2] = z;
    if (keptColors && colors) {
      keptColors[3 * out] = colors[3 * i];
      keptColors[3 * out + 1] = colors[3 * i + 1];
      keptColors[3 * out + 2] = colors[3 * i + 2];
    }
    out++;
  }
  return { positions, colors: keptColors, count };
}

export function reconstructionRecord(
  output: ReconstructionOutput,
  frames: ReconstructedFrame[],
  model: { modelId: string },
): NewReconstruction {
  const { frameCount, width, height } = output;
  if (frames.length !== frameCount) {
    throw new Error(`engine returned ${frameCount} frames for ${frames.length} inputs`);
  }
  const mapValues = width * height * 3;
  if (output.localPoints.length !== frameCount * mapValues) {
    throw new Error('engine local point maps do not match frameCount x height x width x 3');
  }
  if (output.worldFromCamera.length !== frameCount * 16) {
    throw new Error('engine poses do not match frameCount x 4 x 4');
  }
  const cameras: CameraInfo[] = frames.map((frame, n) => ({
    frameId: frame.frameId,
    frameIndex: frame.index,
    worldFromCamera: Array.from(output.worldFromCamera.subarray(16 * n, 16 * n + 16)),
    intrinsics: estimateIntrinsics(output.localPoints, width, height, n * mapValues),
  }));
  return {
    modelId: model.modelId,
    precision: output.precision,
    executionProvider: output.executionProvider,
    frameCount,
    mapWidth: width,
    mapHeight: height,
    timingsMs: output.timingsMs,
    worldFromCamera: output.worldFromCamera,
    localPointMaps: output.localPoints,
    mapColors: output.colors.length === frameCount * mapValues ? output.colors : null,
    cameras,
    points: finiteWorldPoints(output.worldPoints, output.colors),
  };
}
