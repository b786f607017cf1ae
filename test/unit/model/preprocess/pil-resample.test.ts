// The PIL resampler must give the very bytes the official Python pre-processing
// gave (golden g2vlm-tiny-a): LANCZOS for the DINO frames, BICUBIC twice for the
// Qwen2-VL chat image. Images are decoded with sharp (libvips + mozjpeg's
// libjpeg-turbo decoder, islow IDCT and fancy upsampling like PIL's libjpeg).

import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../../../main/model/checkpoint/safetensors';
import { axisCoefficients, resizeRgbLikePil } from '../../../../main/model/preprocess/pil-resample';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;

async function decodeRgb(path: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** HWC (ours) → CHW (the golden layout) for frame `index` of a NCHW tensor. */
function countMismatches(
  hwc: Uint8Array,
  nchw: Uint8Array,
  index: number,
  height: number,
  width: number,
): number {
  const plane = height * width;
  const base = index * 3 * plane;
  let mismatches = 0;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) if (hwc[p * 3 + c] !== nchw[base + c * plane + p]) mismatches++;
  }
  return mismatches;
}

describe('resizeRgbLikePil', () => {
  let inputs: SafetensorsFile;
  let outputs: SafetensorsFile;
  beforeAll(async () => {
    inputs = await SafetensorsFile.open(join(GOLDEN, 'inputs/inputs.safetensors'));
    outputs = await SafetensorsFile.open(join(GOLDEN, 'outputs/outputs.safetensors'));
  });
  afterAll(async () => {
    await inputs.close();
    await outputs.close();
  });

  it('reproduces the DINO LANCZOS resize of the 960x540 PNG frames to 518x294 exactly', async () => {
    const golden = (await inputs.readTyped('recon.dino_image_resized_u8')) as Uint8Array;
    const frames = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
    for (const [i, name] of frames.entries()) {
      const image = await decodeRgb(join(GOLDEN, 'inputs/images', name));
      const resized = resizeRgbLikePil(image.rgb, image.width, image.height, 518, 294, 'lanczos');
      expect(countMismatches(resized, golden, i, 294, 518), name).toBe(0);
    }
  });

  it('reproduces the chat JPEG resizes: LANCZOS 518x392, BICUBIC 240x240 then 252x252, exactly', async () => {
    const image = await decodeRgb(join(GOLDEN, 'inputs/images/25_0.jpg'));
    expect([image.width, image.height]).toEqual([1296, 968]);

    const dino = resizeRgbLikePil(image.rgb, image.width, image.height, 518, 392, 'lanczos');
    const goldenDino = (await inputs.readTyped('chat.dino_image_resized_u8')) as Uint8Array;
    expect(countMismatches(dino, goldenDino, 0, 392, 518)).toBe(0);

    const vit240 = resizeRgbLikePil(image.rgb, image.width, image.height, 240, 240, 'bicubic');
    const golden240 = (await inputs.readTyped('chat.vit0.image_resized_u8')) as Uint8Array;
    expect(countMismatches(vit240, golden240, 0, 240, 240)).toBe(0);

    const vit252 = resizeRgbLikePil(vit240, 240, 240, 252, 252, 'bicubic');
    const golden252 = (await outputs.readTyped('chat.vit0.image_processor_resized_u8')) as Uint8Array;
    expect(countMismatches(vit252, golden252, 0, 252, 252)).toBe(0);
  });

  it('keeps a flat image flat and returns a copy when the size does not change', () => {
    const flat = new Uint8Array(7 * 5 * 3).fill(200);
    for (const filter of ['lanczos', 'bicubic'] as const) {
      expect(resizeRgbLikePil(flat, 7, 5, 3, 11, filter).every((v) => v === 200)).toBe(true);
    }
    const same = resizeRgbLikePil(flat, 7, 5, 7, 5, 'bicubic');
    expect(same).toEqual(flat);
    expect(same).not.toBe(flat);
  });

  it('widens the filter support when shrinking and normalises each output row of weights to one', () => {
    const down = axisCoefficients(1296, 240, 'bicubic');
    expect(down.tapsPerOutput).toBe(Math.ceil(2 * (1296 / 240)) * 2 + 1);
    const up = axisCoefficients(240, 252, 'lanczos');
    expect(up.tapsPerOutput).toBe(7);
    for (const axis of [down, up]) {
      for (let i = 0; i < axis.first.length; i++) {
        let sum = 0;
        for (let j = 0; j < axis.count[i]; j++) sum += axis.fixed[i * axis.tapsPerOutput + j];
        expect(Math.abs(sum - 2 ** 22)).toBeLessThanOrEqual(axis.count[i]);
      }
    }
  });

  it('rejects a buffer whose size does not match the stated dimensions', () => {
    expect(() => resizeRgbLikePil(new Uint8Array(10), 2, 2, 1, 1, 'bicubic')).toThrow(RangeError);
  });
});
