// The GPU memory estimate on real figures: the real 2B-MoT configuration
// against the limits of real adapter classes (Dawn's D3D12 buffer limit, an
// 8 GB NVIDIA card), and the converted golden tiny model's graph files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  amdgpuFreeMemoryBytes,
  deviceWeights,
  estimateGpuChatMemory,
  estimateGpuReconstructionMemory,
  gpuEstimateFor,
  gpuLimits,
  insufficientGpuMemoryError,
  type GpuLimits,
} from '../../../../main/model/engine/gpu-memory-estimate';
import { RECON_GRAPHS, type ModelFootprint } from '../../../../main/model/engine/memory-estimate';
import {
  decoderConfigFor,
  parseDinoConfig,
  parseTextConfig,
  parseVitConfig,
  QWEN2VL_SPECIAL_TOKENS,
} from '../../../../main/model/checkpoint/config';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { readModelManifest } from '../../../../main/model/runtime/model-manifest';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN_CHECKPOINT = `${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`;
const GiB = 2 ** 30;
const PARAMS = 4_538_214_052;

/** The real G2VLM-2B-MoT configuration (model doc §1). */
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
    weightsBytes: PARAMS * 4,
    prepacking: false,
  };
}

/** The fp32 token-embedding table, the biggest single weight (151936 × 1536 floats). */
const EMBED_TABLE = { name: 'embed_tokens: model.embed_tokens.weight', bytes: 151936 * 1536 * 4 };
const limits = (l: Partial<GpuLimits>): GpuLimits => ({
  provider: 'webgpu',
  maxBufferSize: null,
  memoryBytes: null,
  memorySource: 'test',
  ...l,
});

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'g2-gpu-memory-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('GPU memory estimate', () => {
  it("refuses above the frame count whose DINO attention fits Dawn's 2 GiB D3D12 buffer limit", () => {
    // 960×720 frames -> 518×392 -> 37×28 = 1036 patches. DINO's MultiHeadAttention keeps
    // the probabilities of all frames' 16 heads in one buffer: 16·1036²·4 B = 65.5 MiB a frame.
    const perFrame = 16 * 1036 * 1036 * 4;
    const expected = Math.floor(2 ** 31 / perFrame);
    expect(expected).toBe(31);
    const weights = { bytes: PARAMS * 4, largest: EMBED_TABLE };
    const at = (n: number) =>
      gpuEstimateFor(realModel(), weights, n, 518, 392, limits({ maxBufferSize: 2 ** 31 }));
    const over = at(40);
    expect(over.fits).toBe(false);
    expect(over.refusedBy).toBe('buffer size');
    expect(over.maxFrames).toBe(expected);
    expect(over.breakdown.largestTensor).toEqual({
      name: 'DINO attention probabilities',
      bytes: 40 * perFrame,
    });
    expect(at(expected).fits).toBe(true);
    expect(at(expected + 1).fits).toBe(false);
    const error = insufficientGpuMemoryError(over);
    expect(error.code).toBe('insufficient-memory');
    expect(error.message).toContain('DINO attention probabilities');
    expect(error.message).toContain('2.0 GiB buffer limit');
    expect(error.message).toContain(`the largest number of frames that fits is ${expected}`);
    expect(error.fix).toContain(`at most ${expected} frames`);
  });

  it('refuses the fp32 real model on an 8 GB GPU outright, and fits int4 weights up to a frame count', () => {
    const nvidia8 = limits({ maxBufferSize: 4 * GiB - 4, memoryBytes: 8 * GiB, memorySource: 'nvidia-smi' });
    const fp32 = gpuEstimateFor(
      realModel(),
      { bytes: PARAMS * 4, largest: EMBED_TABLE },
      2,
      518,
      294,
      nvidia8,
    );
    expect(fp32.fits).toBe(false);
    expect(fp32.refusedBy).toBe('device memory');
    expect(fp32.maxFrames).toBe(0);
    expect(insufficientGpuMemoryError(fp32).message).toContain('not even one frame fits');
    // int4 linears: ~0.56 B a parameter with their scales; the embedding table stays fp32.
    const int4Bytes = Math.round(PARAMS * 0.5625) + EMBED_TABLE.bytes;
    const int4 = gpuEstimateFor(
      realModel(),
      { bytes: int4Bytes, largest: EMBED_TABLE },
      64,
      518,
      294,
      nvidia8,
    );
    expect(int4.fits).toBe(false);
    const K = int4.maxFrames;
    expect(K).toBeGreaterThan(1);
    const atK = gpuEstimateFor(realModel(), { bytes: int4Bytes, largest: EMBED_TABLE }, K, 518, 294, nvidia8);
    const atK1 = gpuEstimateFor(
      realModel(),
      { bytes: int4Bytes, largest: EMBED_TABLE },
      K + 1,
      518,
      294,
      nvidia8,
    );
    expect(atK.fits).toBe(true);
    expect(atK.breakdown.deviceBytes).toBeLessThanOrEqual(8 * GiB);
    expect(atK1.fits).toBe(false);
    expect(insufficientGpuMemoryError(int4).message).toContain('GiB free (nvidia-smi)');
  });

  it('counts the weights each GPU session uploads from the converted graphs', async () => {
    const modelDir = join(work, 'tiny-fp32');
    await convertCheckpoint(GOLDEN_CHECKPOINT, modelDir, { precision: 'fp32' });
    const manifest = readModelManifest(modelDir);
    const device = await deviceWeights(modelDir, manifest.graphs, RECON_GRAPHS);
    expect(device).toBeDefined();
    const weightsFile = (await fs.stat(join(modelDir, 'weights.bin'))).size;
    // The two LLM graphs each upload the layer weights: more than the file's single copy of them.
    const llmOnly = await deviceWeights(modelDir, manifest.graphs, ['llm_causal']);
    expect(device!.bytes).toBeGreaterThan(llmOnly!.bytes * 2);
    expect(device!.largest.bytes).toBeGreaterThan(0);
    expect(device!.largest.bytes).toBeLessThanOrEqual(weightsFile);

    const swiftShader = limits({ maxBufferSize: GiB, memoryBytes: null, memorySource: 'not reported' });
    const estimate = await estimateGpuReconstructionMemory(modelDir, 400, 960, 540, swiftShader);
    expect(estimate.fits).toBe(false);
    expect(estimate.refusedBy).toBe('buffer size');
    const K = estimate.maxFrames;
    expect(K).toBeGreaterThan(8);
    expect((await estimateGpuReconstructionMemory(modelDir, K, 960, 540, swiftShader)).fits).toBe(true);
    const above = await estimateGpuReconstructionMemory(modelDir, K + 1, 960, 540, swiftShader);
    expect(above.breakdown.largestTensor.bytes).toBeGreaterThan(GiB);
  });

  it('counts fp16 weights as float32 where a session widens them, as fp16 where the adapter computes in fp16', async () => {
    const fp32Dir = join(work, 'tiny-fp32-half-check');
    const fp16Dir = join(work, 'tiny-fp16');
    await convertCheckpoint(GOLDEN_CHECKPOINT, fp32Dir, { precision: 'fp32' });
    await convertCheckpoint(GOLDEN_CHECKPOINT, fp16Dir, { precision: 'fp16' });
    const noF16 = limits({ maxBufferSize: GiB, memoryBytes: null, memorySource: 'not reported' });
    const withF16 = { ...noF16, float16Compute: true };
    for (const estimate of [estimateGpuReconstructionMemory, estimateGpuChatMemory]) {
      const fp32 = (await estimate(fp32Dir, 2, 960, 540, noF16)).breakdown.weightsBytes;
      // Without shader-f16 each session folds the widening Cast: fp32's device bytes.
      expect((await estimate(fp16Dir, 2, 960, 540, noF16)).breakdown.weightsBytes).toBe(fp32);
      // The fp16-compute forms upload the fp16 weights themselves: half.
      expect((await estimate(fp16Dir, 2, 960, 540, withF16)).breakdown.weightsBytes).toBe(fp32 / 2);
    }
  });

  it('checks a question too: its sessions upload the vision tower and the LM head, and the frames that fit are named', async () => {
    const modelDir = join(work, 'tiny-chat');
    await convertCheckpoint(GOLDEN_CHECKPOINT, modelDir, { precision: 'fp32' });
    const swiftShader = limits({ maxBufferSize: GiB, memoryBytes: null, memorySource: 'not reported' });
    const recon = await estimateGpuReconstructionMemory(modelDir, 2, 960, 540, swiftShader);
    const chat = await estimateGpuChatMemory(modelDir, 2, 960, 540, swiftShader);
    expect(chat.job).toBe('chat');
    // The vision tower, the LM head and the decode graph's own embedding table are uploaded for a question.
    const manifest = readModelManifest(modelDir);
    const extra = await deviceWeights(modelDir, manifest.graphs, ['vision_tower', 'lm_head', 'embed_tokens']);
    expect(chat.breakdown.weightsBytes).toBe(
      recon.breakdown.weightsBytes -
        (await deviceWeights(modelDir, manifest.graphs, [
          'point_decoder',
          'camera_decoder',
          'global_decoder',
        ]))!.bytes +
        extra!.bytes,
    );
    expect(chat.fits).toBe(true);
    // Hundreds of frames: DINO's probabilities outgrow SwiftShader's 1 GiB buffer; the largest count that fits is named.
    const many = await estimateGpuChatMemory(modelDir, 400, 960, 540, swiftShader);
    expect(many.fits).toBe(false);
    expect(many.refusedBy).toBe('buffer size');
    const K = many.maxFrames;
    expect(K).toBeGreaterThan(8);
    expect((await estimateGpuChatMemory(modelDir, K, 960, 540, swiftShader)).fits).toBe(true);
    expect((await estimateGpuChatMemory(modelDir, K + 1, 960, 540, swiftShader)).fits).toBe(false);
    const error = insufficientGpuMemoryError(many);
    expect(error.message).toMatch(/^A question over 400 frames on the GPU \(WebGPU\) does not fit/);
    expect(error.fix).toContain(`at most ${K} frames`);
  });

  it('a question with the real model: fp32 does not fit an 8 GB GPU; int4 does, up to a frame count it names', () => {
    const nvidia8 = limits({ maxBufferSize: 4 * GiB - 4, memoryBytes: 8 * GiB, memorySource: 'nvidia-smi' });
    const ask = (bytes: number, frames: number) =>
      gpuEstimateFor(realModel(), { bytes, largest: EMBED_TABLE }, frames, 518, 294, nvidia8, 'chat');
    const fp32 = ask(PARAMS * 4, 1);
    expect(fp32.fits).toBe(false);
    expect(fp32.maxFrames).toBe(0);
    // int4 linears (~0.56 B a parameter) and two fp32 embedding tables (the embedding session's, the decode graph's).
    const int4Bytes = Math.round(PARAMS * 0.5625) + 2 * EMBED_TABLE.bytes;
    const eight = ask(int4Bytes, 8);
    expect(eight.fits).toBe(false);
    const K = eight.maxFrames;
    expect(K).toBeGreaterThanOrEqual(1);
    expect(ask(int4Bytes, K).fits).toBe(true);
    expect(ask(int4Bytes, K).breakdown.deviceBytes).toBeLessThanOrEqual(8 * GiB);
    expect(ask(int4Bytes, K + 1).fits).toBe(false);
    // The KV cache (the input and the updated copy on the device) and the activations grow with the frames.
    expect(eight.breakdown.activationBytes).toBeGreaterThan(ask(int4Bytes, 1).breakdown.activationBytes);
    expect(insufficientGpuMemoryError(eight).fix).toContain(`at most ${K} frames`);
  });

  it('reads device memory where the platform reports it', async () => {
    // No amdgpu card here: null, not a guess.
    const fakeDrm = await fs.mkdtemp(join(work, 'drm-'));
    expect(await amdgpuFreeMemoryBytes(fakeDrm)).toBeNull();
    await fs.mkdir(join(fakeDrm, 'card0', 'device'), { recursive: true });
    await fs.writeFile(join(fakeDrm, 'card0', 'device', 'mem_info_vram_total'), `${8 * GiB}\n`);
    await fs.writeFile(join(fakeDrm, 'card0', 'device', 'mem_info_vram_used'), `${GiB}\n`);
    expect(await amdgpuFreeMemoryBytes(fakeDrm)).toBe(7 * GiB);
    // Apple silicon shares the system memory with its GPU.
    const apple = await gpuLimits('webgpu', { maxBufferSize: null, devices: [] }, 'darwin', 'arm64');
    expect(apple.memorySource).toBe('unified memory');
    expect(apple.memoryBytes).toBeGreaterThan(0);
    const unknown = await gpuLimits('webgpu', { maxBufferSize: GiB, devices: [] }, 'win32', 'x64');
    expect(unknown).toMatchObject({ maxBufferSize: GiB, memoryBytes: null });
  });
});
