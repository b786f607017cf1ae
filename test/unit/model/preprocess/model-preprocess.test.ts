// DINO image pre-processing against the golden uint8 and float inputs
// (PIL LANCZOS, Python round-half-even target height, float32 normalisation).
import * as fs from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import {
  decodeRgb,
  dinoTargetSize,
  prepareDinoBatch,
  roundHalfEven,
} from '../../../../main/model/preprocess/dino-image';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const golden = new GoldenTensorReader(GOLDEN);
afterAll(() => golden.close());

const load = (name: string) => decodeRgb(fs.readFileSync(join(GOLDEN, 'inputs/images', name)), name);

function toNchw(rgb: Uint8Array, frames: number, plane: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let n = 0; n < frames; n++)
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < plane; i++) out[(n * 3 + c) * plane + i] = rgb[(n * plane + i) * 3 + c];
  return out;
}

describe('DINO image preprocessing', () => {
  it('reproduces recon.dino_image_resized_u8 exactly and dino_image_normalized within 1e-6', async () => {
    const images = await Promise.all(['frame_00019.png', 'frame_00040.png', 'frame_00060.png'].map(load));
    const batch = prepareDinoBatch(images);
    expect([batch.width, batch.height]).toEqual([518, 294]);
    const u8 = (await golden.read('inputs/inputs.safetensors', 'recon.dino_image_resized_u8'))
      .data as Uint8Array;
    expect(Buffer.compare(Buffer.from(toNchw(batch.resizedRgb, 3, 518 * 294)), Buffer.from(u8))).toBe(0);
    const normalized = (await golden.readFloat32('inputs/inputs.safetensors', 'recon.dino_image_normalized'))
      .data;
    expect(compareAllclose(batch.pixelValues, normalized, 1e-6, 0).maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it('reproduces the chat DINO image of a JPEG (1296x968 -> 518x392)', async () => {
    const batch = prepareDinoBatch([await load('25_0.jpg')]);
    expect([batch.width, batch.height]).toEqual([518, 392]);
    const u8 = (await golden.read('inputs/inputs.safetensors', 'chat.dino_image_resized_u8'))
      .data as Uint8Array;
    expect(Buffer.compare(Buffer.from(toNchw(batch.resizedRgb, 1, 518 * 392)), Buffer.from(u8))).toBe(0);
  });

  it('frame 0 fixes the size of every frame (pitfall 15)', async () => {
    const wide = await load('frame_00019.png');
    const tall = await decodeRgb(
      await sharp({ create: { width: 300, height: 400, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
      'tall',
    );
    expect([prepareDinoBatch([tall, wide]).width, prepareDinoBatch([tall, wide]).height]).toEqual([518, 686]);
    expect([prepareDinoBatch([wide, tall]).width, prepareDinoBatch([wide, tall]).height]).toEqual([518, 294]);
  });

  it('rounds the target height half-to-even like Python (pitfall 9)', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(2.4999)).toBe(2);
    // 518×35: 35·(518/518)/14 = 2.5 -> Python round gives 2 (JS Math.round would give 3).
    expect(dinoTargetSize(518, 35).height).toBe(28);
    expect(dinoTargetSize(960, 540).height).toBe(294);
    expect(dinoTargetSize(640, 480).height).toBe(392);
  });

  it('refuses bytes that are not an image with a typed error', async () => {
    await expect(decodeRgb(new Uint8Array([1, 2, 3, 4]), 'broken.jpg')).rejects.toMatchObject({
      code: 'corrupt-media',
    });
  });
});
