// The DINO ("geometry") input of the chat images: the recon path's
// load_and_resize14(images, 518) pre-processing (preprocess/dino-image.ts,
// model doc §2.1) in the shape the chat uses.
import { prepareDinoBatch } from '../preprocess/dino-image';
import type { RgbImage } from '../preprocess/qwen-image';

const PATCH = 14;

export interface DinoInput {
  /** (N, 3, H, W) normalised float32. */
  pixelValues: Float32Array;
  frames: number;
  width: number;
  height: number;
  /** Patch grid (h, w) = (H/14, W/14). */
  grid: [number, number];
  /** The resized uint8 images, HWC each. */
  resized: Uint8Array[];
}

export function dinoInput(images: RgbImage[], signal?: AbortSignal): DinoInput {
  const batch = prepareDinoBatch(
    images.map((image) => ({ data: image.rgb, width: image.width, height: image.height })),
    signal,
  );
  const frameBytes = batch.width * batch.height * 3;
  return {
    pixelValues: batch.pixelValues,
    frames: batch.frames,
    width: batch.width,
    height: batch.height,
    grid: [batch.height / PATCH, batch.width / PATCH],
    resized: Array.from({ length: batch.frames }, (_, n) =>
      batch.resizedRgb.subarray(n * frameBytes, (n + 1) * frameBytes),
    ),
  };
}
