// DINO (geometry) image pre-processing, as `load_and_resize14(images, 518)`
// (model doc §2.1): decode to 8-bit RGB without colour conversion, target size
// from frame 0 (W = 518, H = round(H0·(518/W0)/14)·14 with Python's
// round-half-even, pitfall 9), PIL LANCZOS for every frame, ToTensor (/255 in
// float32) and ImageNet normalisation (float32 subtract, then divide).
import sharp from 'sharp';
import { StudioError } from '../../common/errors';
import { resizeRgbLikePil } from './pil-resample';

export const DINO_TARGET_WIDTH = 518;
const MEAN = [0.485, 0.456, 0.406].map(Math.fround);
const STD = [0.229, 0.224, 0.225].map(Math.fround);

/** Python 3 `round(x)`: halves go to the even integer. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function dinoTargetSize(
  width0: number,
  height0: number,
  targetWidth = DINO_TARGET_WIDTH,
): { width: number; height: number } {
  const height = roundHalfEven((height0 * (targetWidth / width0)) / 14) * 14;
  if (height < 14) {
    throw new StudioError(
      'invalid-input',
      `Frame 0 is ${width0}×${height0}: too wide for the model (the resized height would be ${height} px).`,
      'Use frames with an aspect ratio of at most about 37:1.',
    );
  }
  return { width: targetWidth, height };
}

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes JPEG/PNG/… bytes to interleaved 8-bit RGB (alpha dropped, grey expanded). */
export async function decodeRgb(bytes: Uint8Array, name: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels === 3)
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
      };
    const rgb = new Uint8Array(info.width * info.height * 3);
    for (let i = 0; i < info.width * info.height; i++) {
      const v = data[i * info.channels];
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v;
    }
    return { data: rgb, width: info.width, height: info.height };
  } catch (error) {
    throw new StudioError(
      'corrupt-media',
      `The frame ${name} could not be decoded as an image.`,
      'Re-extract the frames or choose other images.',
      {
        cause: error,
      },
    );
  }
}

export interface DinoBatch {
  frames: number;
  width: number;
  height: number;
  /** N × H × W × 3 resized 8-bit RGB (the point colours). */
  resizedRgb: Uint8Array;
  /** N × 3 × H × W normalised float32 (the DINO input). */
  pixelValues: Float32Array;
}

/** Resizes (LANCZOS) and normalises decoded frames; frame 0 fixes the size. */
export function prepareDinoBatch(images: RgbImage[], signal?: AbortSignal): DinoBatch {
  if (images.length === 0)
    throw new StudioError('invalid-input', 'No frames to reconstruct.', 'Choose at least one frame.');
  const { width, height } = dinoTargetSize(images[0].width, images[0].height);
  const N = images.length;
  const plane = width * height;
  const resizedRgb = new Uint8Array(N * plane * 3);
  const pixelValues = new Float32Array(N * 3 * plane);
  images.forEach((img, n) => {
    signal?.throwIfAborted();
    const resized =
      img.width === width && img.height === height
        ? img.data
        : resizeRgbLikePil(img.data, img.width, img.height, width, height, 'lanczos');
    resizedRgb.set(resized, n * plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        const x = Math.fround(resized[i * 3 + c] / 255);
        pixelValues[base + i] = Math.fround(Math.fround(x - MEAN[c]) / STD[c]);
      }
    }
  });
  return { frames: N, width, height, resizedRgb, pixelValues };
}
