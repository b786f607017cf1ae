// The Qwen2-VL image path of the chat (model doc §2.2) must give the official
// processor's pixel_values and grid for the golden chat image, from the JPEG bytes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../../../main/model/checkpoint/safetensors';
import {
  decodeRgbImage,
  qwenImageInput,
  roundHalfEven,
  smartResize,
} from '../../../../main/model/preprocess/qwen-image';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;

describe('Qwen2-VL image preprocessing', () => {
  it('reproduces chat.vit0.pixel_values (bit-exact) and grid_thw from 25_0.jpg at 240 px', async () => {
    const inputs = await SafetensorsFile.open(join(GOLDEN, 'inputs/inputs.safetensors'));
    try {
      const image = await decodeRgbImage(readFileSync(join(GOLDEN, 'inputs/images/25_0.jpg')), '25_0.jpg');
      const input = qwenImageInput(image, 240);
      const golden = (await inputs.readTyped('chat.vit0.pixel_values')) as Float32Array;
      expect(input.pixelValues.length).toBe(golden.length);
      let maxAbs = 0;
      for (let i = 0; i < golden.length; i++)
        maxAbs = Math.max(maxAbs, Math.abs(golden[i] - input.pixelValues[i]));
      expect(maxAbs).toBeLessThanOrEqual(1e-6);
      const grid = Array.from((await inputs.readTyped('chat.vit0.grid_thw')) as BigInt64Array, Number);
      expect(input.gridThw).toEqual(grid);
      expect([input.processorResized.width, input.processorResized.height]).toEqual([252, 252]);
    } finally {
      await inputs.close();
    }
  });

  it('smart_resize rounds sides to multiples of 28 (768 -> 756, 240 -> 252) and respects the pixel budget', () => {
    expect(smartResize(768, 768)).toEqual([756, 756]);
    expect(smartResize(240, 240)).toEqual([252, 252]);
    expect(smartResize(448, 448)).toEqual([448, 448]);
    expect(smartResize(20, 20)).toEqual([56, 56]);
    const [h, w] = smartResize(8000, 8000);
    expect(h * w).toBeLessThanOrEqual(12845056);
    expect(h % 28).toBe(0);
  });

  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, -0.5, 3.4, 3.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, 3, 4]);
  });

  it('refuses bytes that are not an image with a corrupt-media error', async () => {
    await expect(decodeRgbImage(new Uint8Array([1, 2, 3, 4]), 'broken.jpg')).rejects.toMatchObject({
      code: 'corrupt-media',
    });
  });
});
