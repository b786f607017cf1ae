// The Qwen2-VL image processor settings a checkpoint ships in
// preprocessor_config.json (min/max pixels, mean/std), read when present with
// the standard Qwen2-VL values as the fallback (model doc §2.2). The file comes
// from the internet: every number is checked against what the chat path can
// use, and the patch geometry must be the one the converted graphs are built
// for (14-pixel patches, 2x2 merge, 2 frames per temporal patch).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { StudioError } from '../../common/errors';
import { QWEN2VL_PROCESSOR } from './qwen-image';

export const PREPROCESSOR_CONFIG_FILE = 'preprocessor_config.json';

/** The processor settings the chat's image path uses. */
export interface QwenProcessor {
  minPixels: number;
  maxPixels: number;
  imageMean: readonly [number, number, number];
  imageStd: readonly [number, number, number];
}

export const DEFAULT_QWEN_PROCESSOR: QwenProcessor = {
  minPixels: QWEN2VL_PROCESSOR.minPixels,
  maxPixels: QWEN2VL_PROCESSOR.maxPixels,
  imageMean: QWEN2VL_PROCESSOR.imageMean,
  imageStd: QWEN2VL_PROCESSOR.imageStd,
};

/** Larger than any image the chat could use (Qwen2-VL's own default is 12.8 M). */
const MAX_PIXELS_LIMIT = 64 * 2 ** 20;
/**
 * A floor above the 768² transform image would make smart_resize enlarge it
 * (and the vision tower's full attention grows with the square of the patches):
 * the chat's memory estimate assumes at most 768².
 */
const MIN_PIXELS_LIMIT = 768 * 768;
const channelMean = z.number().finite().min(0).max(1);
const channelStd = z.number().finite().min(1e-3).max(10);

/** A pixel floor: at most the transform image (see MIN_PIXELS_LIMIT). */
const pixelFloor = z
  .number()
  .int()
  .min(28 * 28)
  .max(MIN_PIXELS_LIMIT)
  .optional();
/** A pixel budget. */
const pixelCeiling = z
  .number()
  .int()
  .min(28 * 28)
  .max(MAX_PIXELS_LIMIT)
  .optional();

const schema = z
  .object({
    min_pixels: pixelFloor,
    max_pixels: pixelCeiling,
    // Newer transformers write the budget as size.{shortest_edge, longest_edge} (pixel counts).
    size: z
      .object({
        shortest_edge: pixelFloor,
        longest_edge: pixelCeiling,
        min_pixels: pixelFloor,
        max_pixels: pixelCeiling,
      })
      .partial()
      .optional(),
    image_mean: z.tuple([channelMean, channelMean, channelMean]).optional(),
    image_std: z.tuple([channelStd, channelStd, channelStd]).optional(),
    patch_size: z.number().int().optional(),
    merge_size: z.number().int().optional(),
    temporal_patch_size: z.number().int().optional(),
  })
  .passthrough();

function corrupt(dir: string, detail: string): StudioError {
  return new StudioError(
    'model-corrupt',
    `${join(dir, PREPROCESSOR_CONFIG_FILE)} ${detail}`,
    `Use the ${PREPROCESSOR_CONFIG_FILE} of the official release, or remove it to use the standard Qwen2-VL values.`,
  );
}

/** The processor settings of a checkpoint or model folder; the Qwen2-VL defaults when it has no file. */
export async function readPreprocessorConfig(dir: string): Promise<QwenProcessor> {
  let text: string;
  try {
    const path = join(dir, PREPROCESSOR_CONFIG_FILE);
    const stat = await fs.stat(path);
    if (!stat.isFile() || stat.size > 64 * 1024) throw corrupt(dir, 'is not a small JSON file.');
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_QWEN_PROCESSOR;
    if (error instanceof StudioError) throw error;
    throw corrupt(dir, `cannot be read (${(error as Error).message}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt(dir, 'is not valid JSON.');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw corrupt(dir, `has an unusable ${issue.path.join('.') || 'value'}: ${issue.message}.`);
  }
  const c = parsed.data;
  const geometry: Array<[string, number | undefined, number]> = [
    ['patch_size', c.patch_size, QWEN2VL_PROCESSOR.patchSize],
    ['merge_size', c.merge_size, QWEN2VL_PROCESSOR.mergeSize],
    ['temporal_patch_size', c.temporal_patch_size, QWEN2VL_PROCESSOR.temporalPatchSize],
  ];
  for (const [name, value, expected] of geometry) {
    if (value !== undefined && value !== expected) {
      throw corrupt(dir, `sets ${name} ${value}; G2VLM's vision tower is built for ${expected}.`);
    }
  }
  const minPixels =
    c.min_pixels ?? c.size?.min_pixels ?? c.size?.shortest_edge ?? DEFAULT_QWEN_PROCESSOR.minPixels;
  const maxPixels =
    c.max_pixels ?? c.size?.max_pixels ?? c.size?.longest_edge ?? DEFAULT_QWEN_PROCESSOR.maxPixels;
  if (minPixels > maxPixels) throw corrupt(dir, `has min_pixels ${minPixels} above max_pixels ${maxPixels}.`);
  return {
    minPixels,
    maxPixels,
    imageMean: c.image_mean ?? DEFAULT_QWEN_PROCESSOR.imageMean,
    imageStd: c.image_std ?? DEFAULT_QWEN_PROCESSOR.imageStd,
  };
}
