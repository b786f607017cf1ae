import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../../../main/common/errors';
import { openCheckpoint, sha256File } from '../../../../main/model/checkpoint/checkpoint';
import {
  generateRandomCheckpoint,
  RANDOM_CHECKPOINT_PRESETS,
} from '../../../../main/model/checkpoint/random-checkpoint';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const MEDIUM = `${SHARED_DIR}/bench/g2vlm-medium`;

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'g2-random-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const readJson = async (path: string): Promise<unknown> => JSON.parse(await fs.readFile(path, 'utf8'));

function stats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

describe('generateRandomCheckpoint', () => {
  it('presets carry the shared golden (tiny) and benchmark (medium) configs verbatim', async () => {
    for (const [preset, dir] of [
      ['tiny', GOLDEN_CHECKPOINT],
      ['medium', MEDIUM],
    ] as const) {
      const files = RANDOM_CHECKPOINT_PRESETS[preset];
      expect(files.textConfig).toEqual(await readJson(join(dir, 'text_config.json')));
      expect(files.vitConfig).toEqual(await readJson(join(dir, 'vit_config.json')));
      expect(files.dinoConfig).toEqual(await readJson(join(dir, 'dino_config.json')));
    }
  });

  it('writes a tiny bf16 checkpoint that opens like the golden one, with the init recipe and a fixed seed', async () => {
    const outDir = join(work, 'tiny-bf16');
    const progress: number[] = [];
    const result = await generateRandomCheckpoint(outDir, 'tiny', {
      seed: 7,
      dtype: 'BF16',
      onProgress: (p) => progress.push(p.progress),
    });
    expect(result.parameterCount).toBe(8_060_612); // the golden manifest's count, mask token included
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);

    const generated = await openCheckpoint(outDir);
    const golden = await openCheckpoint(GOLDEN_CHECKPOINT);
    try {
      expect(generated.config).toEqual(golden.config);
      expect(generated.storageDtype).toBe('BF16');
      expect(generated.tensorNames()).toEqual(golden.tensorNames());
      for (const name of generated.tensorNames())
        expect(generated.info(name).shape).toEqual(golden.info(name).shape);

      const norm = stats(
        await generated.readFloat32('language_model.model.layers.0.input_layernorm_moe_geo.weight'),
      );
      expect(norm.mean).toBeGreaterThan(0.97);
      expect(norm.mean).toBeLessThan(1.03);
      expect(norm.std).toBeGreaterThan(0.07);
      expect(norm.std).toBeLessThan(0.13);
      const scale = stats(await generated.readFloat32('dino_model.encoder.layer.1.layer_scale2.lambda1'));
      expect(Math.abs(scale.mean - 0.8)).toBeLessThan(0.1);
      const bias = stats(await generated.readFloat32('point_decoder.blocks.0.mlp.fc1.bias'));
      expect(Math.abs(bias.mean)).toBeLessThan(0.01);
      expect(Math.abs(bias.std - 0.05)).toBeLessThan(0.01);
      // linear ~ N(0, 1/fan_in): fan_in 1024 -> std 1/32
      const head = stats(await generated.readFloat32('point_head.proj.weight'));
      expect(Math.abs(head.std - 1 / 32)).toBeLessThan(0.001);
      const embed = stats(await generated.readFloat32('language_model.model.embed_tokens.weight'));
      expect(Math.abs(embed.std - 1)).toBeLessThan(0.02);
    } finally {
      await generated.close();
      await golden.close();
    }

    const again = join(work, 'tiny-bf16-again');
    await generateRandomCheckpoint(again, 'tiny', { seed: 7, dtype: 'BF16' });
    const otherSeed = join(work, 'tiny-bf16-seed8');
    await generateRandomCheckpoint(otherSeed, 'tiny', { seed: 8, dtype: 'BF16' });
    const sha = await sha256File(join(outDir, 'model.safetensors'));
    expect(await sha256File(join(again, 'model.safetensors'))).toBe(sha);
    expect(await sha256File(join(otherSeed, 'model.safetensors'))).not.toBe(sha);
  });

  it('writes float32 weights (4 bytes per parameter) and refuses a non-empty target folder', async () => {
    const outDir = join(work, 'tiny-f32');
    const result = await generateRandomCheckpoint(outDir, 'tiny', { seed: 1, dtype: 'F32' });
    expect(result.weightBytes).toBeGreaterThan(result.parameterCount * 4);
    expect(result.weightBytes).toBeLessThan(result.parameterCount * 4 + 100_000);
    const checkpoint = await openCheckpoint(outDir);
    expect(checkpoint.storageDtype).toBe('F32');
    await checkpoint.close();
    const error = await generateRandomCheckpoint(outDir, 'tiny', { seed: 1, dtype: 'F32' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('invalid-input');
  });

  it('cancels mid-way and leaves nothing behind', async () => {
    const outDir = join(work, 'medium-cancelled');
    const controller = new AbortController();
    const error = await generateRandomCheckpoint(outDir, 'medium', {
      seed: 3,
      dtype: 'F32',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.progress > 0.05) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('cancelled');
    await expect(fs.stat(outDir)).rejects.toThrow();
    expect((await fs.readdir(work)).filter((name) => name.includes('medium'))).toEqual([]);
  });
});
