// Readiness for the released checkpoint: the real-2b random preset (sizes only —
// the 9 GB file is never written here), config sizes bounded before anything is
// allocated, and vit_config.json fields the official config class defaults.
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { parseVitConfig, readG2vlmConfig } from '../../../../main/model/checkpoint/config';
import {
  RANDOM_CHECKPOINT_PRESETS,
  randomCheckpointSize,
} from '../../../../main/model/checkpoint/random-checkpoint';
import { modelCatalog } from '../../../../main/model/checkpoint/catalog';
import { SHARED_DIR } from '../../../support/shared-dir';

const REAL_2B = `${SHARED_DIR}/bench/g2vlm-real-2b`;
const work = await fs.mkdtemp(join(tmpdir(), 'g2-real-2b-'));
afterAll(() => fs.rm(work, { recursive: true, force: true }));
const readJson = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, unknown>;

describe('real-2b random preset', () => {
  it('carries the shared real-2b benchmark configs verbatim', async () => {
    const files = RANDOM_CHECKPOINT_PRESETS['real-2b'];
    expect(files.textConfig).toEqual(await readJson(join(REAL_2B, 'text_config.json')));
    expect(files.vitConfig).toEqual(await readJson(join(REAL_2B, 'vit_config.json')));
    expect(files.dinoConfig).toEqual(await readJson(join(REAL_2B, 'dino_config.json')));
  });

  it('has the released G2VLM-2B-MoT parameter count, and its size is known without writing', () => {
    const official = modelCatalog().models.find((m) => m.id === 'g2vlm-2b-mot');
    expect(official).toBeDefined();
    const bf16 = randomCheckpointSize('real-2b', 'BF16');
    expect(bf16.parameterCount).toBe(official!.parameterCount);
    expect(bf16.weightBytes).toBe(2 * bf16.parameterCount);
    expect(randomCheckpointSize('real-2b', 'F32').weightBytes).toBe(4 * bf16.parameterCount);
    // The tiny preset agrees with the golden manifest's count (mask token included).
    expect(randomCheckpointSize('tiny', 'BF16').parameterCount).toBe(8_060_612);
  });
});

describe('checkpoint config sanity', () => {
  async function configDir(name: string, edit: (text: Record<string, unknown>) => void): Promise<string> {
    const dir = join(work, name);
    await fs.mkdir(dir);
    for (const file of ['text_config.json', 'vit_config.json', 'dino_config.json']) {
      const json = await readJson(join(REAL_2B, file));
      if (file === 'text_config.json') edit(json);
      await fs.writeFile(join(dir, file), JSON.stringify(json));
    }
    return dir;
  }

  it('refuses num_hidden_layers 1e9 at once with a typed error, before allocating', async () => {
    const dir = await configDir('layers', (text) => (text.num_hidden_layers = 1e9));
    const started = performance.now();
    const error = await readG2vlmConfig(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('model-corrupt');
    expect((error as StudioError).message).toMatch(
      /num_hidden_layers 1000000000 exceeds the supported maximum/,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses an absurd vocabulary and accepts the real one', async () => {
    const dir = await configDir('vocab', (text) => (text.vocab_size = 2 ** 40));
    await expect(readG2vlmConfig(dir)).rejects.toMatchObject({ code: 'model-corrupt' });
    const real = await readG2vlmConfig(REAL_2B);
    expect(real.text.vocabSize).toBe(151936);
    expect(real.text.numLayers).toBe(28);
  });

  it('fills vit_config.json fields the official Qwen2VLVisionConfig defaults', () => {
    const vit = parseVitConfig({ hidden_size: 1536 });
    expect(vit).toMatchObject({ depth: 32, embedDim: 1280, numHeads: 16, mlpRatio: 4, outHiddenSize: 1536 });
    expect(parseVitConfig({ hidden_size: 1536, depth: 2, embed_dim: 32, num_heads: 2 }).depth).toBe(2);
  });
});
