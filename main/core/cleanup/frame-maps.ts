// The reconstruction's per-frame point maps and how they relate to the scene's
// point cloud. The scene cloud is the finite world points of all maps in
// frame-major pixel order (library/reconstruction-record.ts finiteWorldPoints),
// so a per-pixel quality score becomes a per-point score by gathering at the
// pixel index of each finite point.

import type { PinholeIntrinsics } from '../geometry/intrinsics';

export interface FramePointMaps {
  frameCount: number;
  /** Size of every map (the model's input size). */
  width: number;
  height: number;
  /** N x H x W x 3 points in each frame's own camera (OpenCV axes). */
  localPointMaps: Float32Array;
  /** N x 16 camera-to-world, row-major. */
  worldFromCamera: ArrayLike<number>;
  /** Per frame, pinhole intrinsics in map pixels (pixel centres at +0.5); null where unknown. */
  intrinsics: Array<PinholeIntrinsics | null>;
}

/** World points of every pixel: worldFromCamera · local (N x H x W x 3). */
export function worldPointsFromMaps(maps: FramePointMaps): Float32Array {
  const pixels = maps.width * maps.height;
  const out = new Float32Array(maps.frameCount * pixels * 3);
  const local = maps.localPointMaps;
  for (let f = 0; f < maps.frameCount; f++) {
    const m = Array.from({ length: 16 }, (_, e) => maps.worldFromCamera[16 * f + e]);
    for (let p = f * pixels; p < (f + 1) * pixels; p++) {
      const x = local[3 * p],
        y = local[3 * p + 1],
        z = local[3 * p + 2];
      out[3 * p] = m[0] * x + m[1] * y + m[2] * z + m[3];
      out[3 * p + 1] = m[4] * x + m[5] * y + m[6] * z + m[7];
      out[3 * p + 2] = m[8] * x + m[9] * y + m[10] * z + m[11];
    }
  }
  return out;
}

/** Pixel index (frame-major) of each finite world point, in the order the scene cloud holds them. */
export function finitePixelIndices(worldPoints: Float32Array): Uint32Array {
  const total = Math.floor(worldPoints.length / 3);
  const indices = new Uint32Array(total);
  let n = 0;
  for (let i = 0; i < total; i++) {
    if (
      Number.isFinite(worldPoints[3 * i]) &&
      Number.isFinite(worldPoints[3 * i + 1]) &&
      Number.isFinite(worldPoints[3 * i + 2])
    )
      indices[n++] = i;
  }
  return indices.slice(0, n);
}

/** Per-point values gathered from per-pixel values. */
export function perPointFromPerPixel(
  pixelValues: Float32Array,
  pixelIndexOfPoint: Uint32Array,
): Float32Array {
  const out = new Float32Array(pixelIndexOfPoint.length);
  for (let i = 0; i < out.length; i++) out[i] = pixelValues[pixelIndexOfPoint[i]];
  return out;
}

/** The frame index (CameraInfo.frameIndex, given per map frame) of each point. */
export function pointFramesFromPixels(
  pixelIndexOfPoint: Uint32Array,
  pixelsPerFrame: number,
  frameIndexOfMap: readonly number[],
): Uint16Array | Uint32Array {
  const wide = frameIndexOfMap.some((index) => index > 0xffff);
  const out = wide ? new Uint32Array(pixelIndexOfPoint.length) : new Uint16Array(pixelIndexOfPoint.length);
  for (let i = 0; i < out.length; i++)
    out[i] = frameIndexOfMap[Math.floor(pixelIndexOfPoint[i] / pixelsPerFrame)];
  return out;
}
