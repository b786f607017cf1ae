// The Qwen2-VL ("understanding") image path of the official chat code (model doc
// §2.2): QwenVL2ImageTransform(S, S, 14) = PIL BICUBIC to S×S (aspect ratio not
// kept), then the Qwen2-VL image processor: smart_resize to multiples of 28
// inside the pixel budget (a second PIL BICUBIC when the side changes, e.g.
// 768 → 756, 240 → 252), rescale u8·(1/255) in float64 then float32, CLIP
// mean/std normalisation in float32, and patchify into rows of 3·2·14·14 = 1176
// values in 2×2 merge-window order.

import { StudioError } from '../../common/errors';
import { decodeRgb, roundHalfEven } from './dino-image';
import { resizeRgbLikePil } from './pil-resample';

/** The Qwen2-VL preprocessor values assumed by the golden set (manifest chat.preprocessor_config_assumed). */
export const QWEN2VL_PROCESSOR = {
  minPixels: 3136,
  maxPixels: 12845056,
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
} as const;

/** The values a checkpoint's preprocessor_config.json may change (preprocessor-config.ts). */
export interface QwenProcessorValues {
  minPixels: number;
  maxPixels: number;
  imageMean: readonly number[];
  imageStd: readonly number[];
}

/** inference_chat.py's transform size. */
export const DEFAULT_VIT_IMAGE_SIZE = 768;

export interface RgbImage {
  /** HWC uint8 RGB. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface QwenImageInput {
  /** (gridT·gridH·gridW) × 1176 float32, rows in merge-window order. */
  pixelValues: Float32Array;
  /** [t, h, w] patch grid (unmerged). */
  gridThw: [number, number, number];
  /** The image after the transform's S×S resize (HWC). */
  transformResized: RgbImage;
  /** The image the processor patchified (after smart_resize; HWC). */
  processorResized: RgbImage;
}

export { roundHalfEven };

/** Qwen2-VL smart_resize: (height, width) as multiples of `factor` inside [minPixels, maxPixels]. */
export function smartResize(
  height: number,
  width: number,
  factor = QWEN2VL_PROCESSOR.patchSize * QWEN2VL_PROCESSOR.mergeSize,
  minPixels: number = QWEN2VL_PROCESSOR.minPixels,
  maxPixels: number = QWEN2VL_PROCESSOR.maxPixels,
): [number, number] {
  if (Math.max(height, width) / Math.min(height, width) > 200) {
    throw new StudioError(
      'invalid-input',
      `The image is too elongated (${width}×${height}) for the vision tower.`,
      'Use an image whose long side is at most 200 times its short side.',
    );
  }
  let hBar = roundHalfEven(height / factor) * factor;
  let wBar = roundHalfEven(width / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  return [hBar, wBar];
}

/**
 * Decodes a JPEG/PNG/WebP to 8-bit RGB as PIL would see it (no EXIF rotation,
 * no colour management, alpha dropped, grey expanded) — the same decoder the
 * geometry path uses, so both phases see the same pixels.
 */
export async function decodeRgbImage(bytes: Uint8Array, name = 'image'): Promise<RgbImage> {
  const { data, width, height } = await decodeRgb(bytes, name);
  return { rgb: data, width, height };
}

/**
 * The processor's rows: the image repeated to `temporalPatchSize` slices, each
 * row one (channel, t, py, px) cube, rows ordered by 2×2 merge windows
 * (windows row-major, the 4 patches of a window row-major).
 */
export function patchifyMergeWindows(
  normalizedChw: Float32Array,
  height: number,
  width: number,
): Float32Array {
  const { patchSize: p, temporalPatchSize: tp, mergeSize: m } = QWEN2VL_PROCESSOR;
  const gh = height / p;
  const gw = width / p;
  const rowLength = 3 * tp * p * p;
  const out = new Float32Array(gh * gw * rowLength);
  const plane = height * width;
  let row = 0;
  for (let bh = 0; bh < gh / m; bh++) {
    for (let bw = 0; bw < gw / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          const py0 = (bh * m + mh) * p;
          const px0 = (bw * m + mw) * p;
          let o = row * rowLength;
          for (let c = 0; c < 3; c++) {
            for (let t = 0; t < tp; t++) {
              // Every temporal slice is the same still image.
              for (let y = 0; y < p; y++) {
                const src = c * plane + (py0 + y) * width + px0;
                for (let x = 0; x < p; x++) out[o++] = normalizedChw[src + x];
              }
            }
          }
          row++;
        }
      }
    }
  }
  return out;
}

/** Rescale (float64 ·1/255 → float32) and normalise (float32) an HWC u8 image into CHW. */
export function rescaleAndNormalize(
  image: RgbImage,
  processor: Pick<QwenProcessorValues, 'imageMean' | 'imageStd'> = QWEN2VL_PROCESSOR,
): Float32Array {
  const { width, height, rgb } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const mean = processor.imageMean.map(Math.fround);
  const std = processor.imageStd.map(Math.fround);
  // One float32 value per u8 level and channel: the arithmetic is per value, so a table is exact.
  const table = new Float32Array(256 * 3);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      const scaled = Math.fround(v * (1 / 255));
      table[c * 256 + v] = Math.fround(Math.fround(scaled - mean[c]) / std[c]);
    }
  }
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = table[c * 256 + rgb[i * 3 + c]];
  }
  return out;
}

/** The full Qwen2-VL chat image path for one decoded image. */
export function qwenImageInput(
  image: RgbImage,
  transformSize: number = DEFAULT_VIT_IMAGE_SIZE,
  processor: QwenProcessorValues = QWEN2VL_PROCESSOR,
): QwenImageInput {
  const transformResized: RgbImage = {
    rgb: resizeRgbLikePil(image.rgb, image.width, image.height, transformSize, transformSize, 'bicubic'),
    width: transformSize,
    height: transformSize,
  };
  const factor = QWEN2VL_PROCESSOR.patchSize * QWEN2VL_PROCESSOR.mergeSize;
  const [h, w] = smartResize(transformSize, transformSize, factor, processor.minPixels, processor.maxPixels);
  const processorResized: RgbImage =
    h === transformSize && w === transformSize
      ? transformResized
      : {
          rgb: resizeRgbLikePil(transformResized.rgb, transformSize, transformSize, w, h, 'bicubic'),
          width: w,
          height: h,
        };
  const normalized = rescaleAndNormalize(processorResized, processor);
  const p = QWEN2VL_PROCESSOR.patchSize;
  return {
    pixelValues: patchifyMergeWindows(normalized, h, w),
    gridThw: [1, h / p, w / p],
    transformResized,
    processorResized,
  };
}
