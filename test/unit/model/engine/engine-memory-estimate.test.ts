import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  availableMemoryBytes,
  estimateReconstructionMemory,
  insufficientMemoryError,
  modelFootprint,
  modelInputSize,
  reconstructionMemory,
  type ModelFootprint,
} from '../../../../main/model/engine/memory-estimate';
import {
  decoderConfigFor,
  parseDinoConfig,
  parseTextConfig,
  parseVitConfig,
  QWEN2VL_SPECIAL_TOKENS,
} from '../../../../main/model/checkpoint/config';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const GiB = 2 ** 30;

/** The real G2VLM-2B-MoT configuration (model doc §1) stored in float32: 16.9 GiB of weights. */
function realModel(): ModelFootprint {
  const text = parseTextConfig({
    hidden_size: 1536,
    num_attention_heads: 12,
    num_key_value_heads: 2,
    num_hidden_layers: 28,
    intermediate_size: 8960,
    vocab_size: 151936,
  });
  const vit = parseVitConfig({ depth: 32, embed_dim: 1280, hidden_size: 1536, num_heads: 16 });
  const dino = parseDinoConfig({ hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16 });
  return {
    config: {
      text,
      vit,
      dino,
      decoders: decoderConfigFor(text),
      specialTokens: { ...QWEN2VL_SPECIAL_TOKENS, source: 'qwen2-vl-defaults' },
    },
    weightsBytes: 4_538_214_052 * 4,
    prepacking: false,
  };
}

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'g2-memory-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('reconstruction memory estimate', () => {
  it('uses the official resize rule for the model input size', () => {
    expect(modelInputSize(960, 540)).toEqual({ width: 518, height: 294 });
    expect(modelInputSize(640, 480)).toEqual({ width: 518, height: 392 });
    expect(modelInputSize(1296, 968)).toEqual({ width: 518, height: 392 });
    // 518 x 189: 189/14 = 13.5 exactly -> Python rounds half to even (14 rows -> 196)
    expect(modelInputSize(518, 189)).toEqual({ width: 518, height: 196 });
    // 518 x 203: 14.5 -> 14 rows (even) -> 196
    expect(modelInputSize(518, 203)).toEqual({ width: 518, height: 196 });
  });

  it('grows with the frame count and with the image size', () => {
    const model = realModel();
    let previous = 0;
    for (const frames of [1, 2, 4, 8, 16, 32]) {
      const { peakBytes } = reconstructionMemory(model, frames, 518, 294);
      expect(peakBytes).toBeGreaterThan(previous);
      previous = peakBytes;
    }
    const small = reconstructionMemory(model, 4, 518, 294).peakBytes;
    const tall = reconstructionMemory(model, 4, 518, 392).peakBytes;
    const square = reconstructionMemory(model, 4, 518, 518).peakBytes;
    expect(tall).toBeGreaterThan(small);
    expect(square).toBeGreaterThan(tall);
  });

  it('gives the real 2B-MoT model a plausible size: weights plus gigabytes of attention', () => {
    const model = realModel();
    const two = reconstructionMemory(model, 2, 518, 294);
    expect(two.weightsBytes / GiB).toBeCloseTo(16.9, 1);
    // The LLM's geometry prefill dominates: 12 heads x 1567 x 1576 scores, KV cache, MLP.
    expect(two.llmBytes).toBeGreaterThan(two.decoderBytes);
    expect(two.peakBytes / GiB).toBeGreaterThan(17.5);
    expect(two.peakBytes / GiB).toBeLessThan(24);
    const sixteen = reconstructionMemory(model, 16, 518, 294);
    // 16 frames: the whole 12 x 12.5k x 12.5k score matrix would be ~7 GiB twice over;
    // the LLM graph runs its queries in blocks, so the KV cache and MLP dominate instead.
    expect(sixteen.llmBytes / GiB).toBeGreaterThan(2);
    expect(sixteen.llmBytes / GiB).toBeLessThan(6);
  });

  it('finds the largest frame count that fits and refuses above it', async () => {
    const budget = 2 * GiB;
    const estimate = await estimateReconstructionMemory(GOLDEN_CHECKPOINT, 100, 960, 540, {
      availableBytes: budget,
    });
    expect(estimate.inputWidth).toBe(518);
    expect(estimate.inputHeight).toBe(294);
    expect(estimate.fits).toBe(false);
    const footprint = await modelFootprint(GOLDEN_CHECKPOINT);
    expect(footprint.weightsBytes).toBe(16_167_040);
    const K = estimate.maxFrames;
    expect(K).toBeGreaterThan(2);
    expect(reconstructionMemory(footprint, K, 518, 294).peakBytes).toBeLessThanOrEqual(budget);
    expect(reconstructionMemory(footprint, K + 1, 518, 294).peakBytes).toBeGreaterThan(budget);
    const atK = await estimateReconstructionMemory(GOLDEN_CHECKPOINT, K, 960, 540, {
      availableBytes: budget,
    });
    expect(atK.fits).toBe(true);
    const error = insufficientMemoryError(100, estimate);
    expect(error.code).toBe('insufficient-memory');
    expect(error.message).toContain(`the largest number of frames that fits is ${K}`);
    expect(error.message).toContain('2.0 GiB available');
    expect(error.fix).toContain(`at most ${K} frames`);
  });

  it('does not count a model the engine already holds twice', async () => {
    const budget = 1 * GiB;
    const cold = await estimateReconstructionMemory(GOLDEN_CHECKPOINT, 2, 960, 540, {
      availableBytes: budget,
    });
    const warm = await estimateReconstructionMemory(GOLDEN_CHECKPOINT, 2, 960, 540, {
      availableBytes: budget,
      modelLoaded: true,
    });
    const { weightsBytes, prepackedBytes } = cold.breakdown;
    expect(warm.availableBytes - cold.availableBytes).toBe(weightsBytes + prepackedBytes);
    expect(warm.peakBytes).toBe(cold.peakBytes);
    expect(warm.maxFrames).toBeGreaterThanOrEqual(cold.maxFrames);
  });

  it('reads a converted model folder (manifest config + weight files)', async () => {
    const dir = join(work, 'converted');
    await fs.mkdir(dir);
    const model = realModel();
    await fs.writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ id: 'x', config: model.config, runtime: { prepacking: false } }),
    );
    await fs.writeFile(join(dir, 'llm.onnx'), Buffer.alloc(1000));
    await fs.writeFile(join(dir, 'llm.onnx.data'), Buffer.alloc(5000));
    const footprint = await modelFootprint(dir);
    expect(footprint.weightsBytes).toBe(6000);
    expect(footprint.prepacking).toBe(false);
    expect(footprint.config.text.numLayers).toBe(28);
  });

  it('reports the memory this process can use', async () => {
    const available = await availableMemoryBytes();
    expect(available).toBeGreaterThan(64 * 2 ** 20);
    expect(available).toBeLessThanOrEqual((await import('node:os')).totalmem());
  });
});
