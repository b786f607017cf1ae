// preprocessor_config.json: read when present (pixel budget, mean/std), the
// Qwen2-VL values otherwise, and refused with a typed error when it is not
// something the chat's image path can use (it comes from the internet).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import {
  DEFAULT_QWEN_PROCESSOR,
  PREPROCESSOR_CONFIG_FILE,
  readPreprocessorConfig,
} from '../../../../main/model/preprocess/preprocessor-config';
import { qwenImageInput } from '../../../../main/model/preprocess/qwen-image';

const work = fs.mkdtempSync(join(os.tmpdir(), 'preprocessor-config-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let folders = 0;
function folderWith(json: unknown): string {
  const dir = join(work, `f${folders++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    join(dir, PREPROCESSOR_CONFIG_FILE),
    typeof json === 'string' ? json : JSON.stringify(json),
  );
  return dir;
}

describe('readPreprocessorConfig', () => {
  it('falls back to the Qwen2-VL values when the folder has no file', async () => {
    expect(await readPreprocessorConfig(work)).toEqual(DEFAULT_QWEN_PROCESSOR);
  });

  it('reads min/max pixels (top level or in size) and mean/std', async () => {
    const official = await readPreprocessorConfig(
      folderWith({
        min_pixels: 3136,
        max_pixels: 200704,
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.25, 0.25, 0.25],
        patch_size: 14,
        merge_size: 2,
        temporal_patch_size: 2,
        image_processor_type: 'Qwen2VLImageProcessor',
      }),
    );
    expect(official).toEqual({
      minPixels: 3136,
      maxPixels: 200704,
      imageMean: [0.5, 0.5, 0.5],
      imageStd: [0.25, 0.25, 0.25],
    });
    const newer = await readPreprocessorConfig(
      folderWith({ size: { shortest_edge: 6272, longest_edge: 401408 } }),
    );
    expect(newer).toMatchObject({
      minPixels: 6272,
      maxPixels: 401408,
      imageMean: DEFAULT_QWEN_PROCESSOR.imageMean,
    });
  });

  it('its pixel budget and normalisation reach the image path', async () => {
    const image = { rgb: new Uint8Array(64 * 48 * 3).fill(128), width: 64, height: 48 };
    const standard = qwenImageInput(image, 768);
    const small = qwenImageInput(
      image,
      768,
      await readPreprocessorConfig(folderWith({ max_pixels: 200704 })),
    );
    expect(standard.gridThw).toEqual([1, 54, 54]);
    // 768² is over a 200704-pixel budget: smart_resize floors 768/β/28 (15.999…, as in
    // Python's floating point) to 15 multiples of 28: 420², 30x30 patches.
    expect(small.gridThw).toEqual([1, 30, 30]);
    const shifted = qwenImageInput(image, 768, {
      ...DEFAULT_QWEN_PROCESSOR,
      imageMean: [0, 0, 0],
      imageStd: [1, 1, 1],
    });
    expect(shifted.pixelValues[0]).toBeCloseTo(128 / 255, 6);
  });

  it('refuses what the chat cannot use, naming the file and the value', async () => {
    const cases: unknown[] = [
      '{"min_pixels": ',
      { max_pixels: 1e12 },
      { min_pixels: 64 * 2 ** 20 },
      { image_mean: [0.5, 0.5] },
      { image_std: [0, 1, 1] },
      { min_pixels: 'many' },
      { patch_size: 16 },
      { min_pixels: 401408, max_pixels: 200704 },
    ];
    for (const json of cases) {
      const error = await readPreprocessorConfig(folderWith(json)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(json)).toBeInstanceOf(StudioError);
      expect((error as StudioError).code).toBe('model-corrupt');
      expect((error as StudioError).message).toContain(PREPROCESSOR_CONFIG_FILE);
    }
    const big = join(work, 'big');
    fs.mkdirSync(big);
    fs.writeFileSync(join(big, PREPROCESSOR_CONFIG_FILE), ' '.repeat(100_000));
    await expect(readPreprocessorConfig(big)).rejects.toMatchObject({ code: 'model-corrupt' });
  });
});
