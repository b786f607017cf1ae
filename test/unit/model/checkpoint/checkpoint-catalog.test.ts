import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../../../main/common/errors';
import {
  expectedConfigSchema,
  modelCatalog,
  parseModelCatalog,
} from '../../../../main/model/checkpoint/catalog';
import { openCheckpoint, parameterCount } from '../../../../main/model/checkpoint/checkpoint';
import {
  decoderConfigFor,
  parseDinoConfig,
  parseTextConfig,
  parseVitConfig,
  QWEN2VL_SPECIAL_TOKENS,
} from '../../../../main/model/checkpoint/config';
import { modelGraphs } from '../../../../main/model/convert/convert-checkpoint';
import { SHARED_DIR } from '../../../support/shared-dir';
import { REPO_ROOT } from '../../../support/paths';

const GOLDEN_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const CATALOG_PATH = join(REPO_ROOT, 'native-models', 'catalog.json');

describe('model catalog', () => {
  it('lists the official checkpoint first, with its hub id, licence and the 2B-MoT configuration', () => {
    const [official] = modelCatalog().models;
    expect(official.hubId).toBe('InternRobotics/G2VLM-2B-MoT');
    expect(official.revision).toBe('main');
    expect(official.licence).toBe('Apache-2.0');
    const files = official.entry.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'model.safetensors',
        'text_config.json',
        'vit_config.json',
        'dino_config.json',
      ]),
    );
    // ~18 GB of float32 (model doc §10.16)
    expect(official.weightsBytes / 1e9).toBeGreaterThan(17.5);
    expect(official.weightsBytes / 1e9).toBeLessThan(18.5);
    const { text, dino, vit } = official.entry.expectedConfig;
    expect(text).toMatchObject({
      hiddenSize: 1536,
      numLayers: 28,
      numHeads: 12,
      numKvHeads: 2,
      headDim: 128,
      vocabSize: 151936,
    });
    expect(dino).toMatchObject({
      hiddenSize: 1024,
      numLayers: 24,
      numHeads: 16,
      numRegisters: 4,
      positionGridSide: 37,
    });
    expect(vit).toMatchObject({ depth: 32, embedDim: 1280, numHeads: 16, outHiddenSize: 1536 });
  });

  it('is consistent with the code: parameter count, config parsing and the graphs the converter builds', () => {
    const [official] = modelCatalog().models;
    const text = parseTextConfig({
      hidden_size: 1536,
      num_attention_heads: 12,
      num_key_value_heads: 2,
      num_hidden_layers: 28,
      intermediate_size: 8960,
      vocab_size: 151936,
    });
    const config = {
      text,
      vit: parseVitConfig({ depth: 32, embed_dim: 1280, hidden_size: 1536, num_heads: 16 }),
      dino: parseDinoConfig({ hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16 }),
      decoders: decoderConfigFor(text),
      specialTokens: { ...QWEN2VL_SPECIAL_TOKENS, source: 'qwen2-vl-defaults' as const },
    };
    expect(official.matches(config)).toBe(true);
    // + the unused DINO mask token (1 x 1024) stored in the checkpoint
    expect(parameterCount(config) + 1024).toBe(official.parameterCount);
    expect(official.entry.expectedConfig.specialTokens).toEqual(QWEN2VL_SPECIAL_TOKENS);
    const built = modelGraphs(config, 'fp32').map(([id]) => id);
    expect(official.entry.graphs.map((g) => g.id).sort()).toEqual([...built].sort());
  });

  it('the tiny golden checkpoint config fits the catalog schema but is not the official model', async () => {
    const checkpoint = await openCheckpoint(GOLDEN_CHECKPOINT);
    try {
      const { source: _source, ...specialTokens } = checkpoint.config.specialTokens;
      const parsed = expectedConfigSchema.safeParse({ ...checkpoint.config, specialTokens });
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(modelCatalog().models.some((m) => m.matches(checkpoint.config))).toBe(false);
    } finally {
      await checkpoint.close();
    }
  });

  it('refuses a catalog edit that breaks the schema', async () => {
    const raw = JSON.parse(await fs.readFile(CATALOG_PATH, 'utf8')) as {
      models: Array<{ expectedConfig: { text: { headDim: number } }; graphs: Array<{ id: string }> }>;
    };
    raw.models[0].expectedConfig.text.headDim = 64;
    const error = (() => {
      try {
        parseModelCatalog(raw);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).message).toContain('expectedConfig.text.headDim');
  });
});
