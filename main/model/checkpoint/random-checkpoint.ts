// Random-weight G2VLM checkpoints in the official layout (configs +
// model.safetensors), for benchmarks and tests at sizes we have no real weights
// for. Written tensor by tensor in chunks, so a multi-GB checkpoint needs a few
// MB of memory. The init recipe is the golden set's (g2vlm_tiny.json `init`),
// chosen so activations stay in a sane range through every stage.

import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StudioError, cancelledError } from '../../common/errors';
import {
  QWEN2VL_SPECIAL_TOKENS,
  decoderConfigFor,
  parseDinoConfig,
  parseTextConfig,
  parseVitConfig,
  readG2vlmConfig,
  type G2vlmConfig,
} from './config';
import { expectedTensors, IGNORED_TENSORS, WEIGHTS_FILE } from './checkpoint';
import {
  RANDOM_CHECKPOINT_PRESETS,
  type CheckpointConfigFiles,
  type RandomCheckpointPreset,
} from './random-presets';
import { elementCount, float32ToBf16, writeSafetensors, type TensorToWrite } from './safetensors';

export type { CheckpointConfigFiles, RandomCheckpointPreset } from './random-presets';
export { RANDOM_CHECKPOINT_PRESETS } from './random-presets';

export interface RandomCheckpointOptions {
  seed: number;
  dtype: 'F32' | 'BF16';
  signal?: AbortSignal;
  onProgress?: (p: { progress: number; stage: string }) => void;
}

export interface RandomCheckpointResult {
  dir: string;
  parameterCount: number;
  weightBytes: number;
}

/** Deterministic per-tensor generator: xoshiro128** seeded from (seed, tensor name). */
class TensorRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number, name: string) {
    // FNV-1a of the name mixed with the seed, expanded by splitmix32, so a tensor's
    // values do not depend on which other tensors exist or their order.
    let h = 0x811c9dc5 ^ (seed >>> 0);
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    let x = (h ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  private nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1). */
  uniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** mean + std·N(0,1), the golden init rule for each kind of tensor. */
export function initRule(name: string, shape: number[]): { mean: number; std: number } {
  if (name.endsWith('.lambda1') || name.endsWith('ls1.gamma') || name.endsWith('ls2.gamma'))
    return { mean: 0.8, std: 0.2 };
  const isNorm = /norm|ln_q/.test(name);
  if (isNorm && name.endsWith('.weight')) return { mean: 1, std: 0.1 };
  if (name.endsWith('.bias')) return { mean: 0, std: 0.05 };
  if (name.endsWith('embed_tokens.weight')) return { mean: 0, std: 1 };
  if (name.endsWith('position_embeddings')) return { mean: 0, std: 0.5 };
  if (name.startsWith('dino_model.embeddings.') && !name.includes('patch_embeddings'))
    return { mean: 0, std: 1 };
  const fanIn = elementCount(shape.slice(1));
  return { mean: 0, std: 1 / Math.sqrt(Math.max(1, fanIn)) };
}

const CHUNK_ELEMENTS = 1 << 20;

function* randomChunks(
  name: string,
  shape: number[],
  seed: number,
  dtype: 'F32' | 'BF16',
): Generator<ArrayBufferView> {
  const { mean, std } = initRule(name, shape);
  const random = new TensorRandom(seed, name);
  const total = elementCount(shape);
  for (let start = 0; start < total; start += CHUNK_ELEMENTS) {
    const values = new Float32Array(Math.min(CHUNK_ELEMENTS, total - start));
    for (let i = 0; i < values.length; i++) values[i] = mean + std * random.normal();
    yield dtype === 'F32' ? values : float32ToBf16(values);
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await fs.writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The unused DINO mask token the official checkpoint also carries (layout kept). */
function withMaskToken(shapes: Map<string, number[]>, config: G2vlmConfig): Map<string, number[]> {
  for (const name of IGNORED_TENSORS) {
    if (name === 'dino_model.embeddings.mask_token') shapes.set(name, [1, config.dino.hiddenSize]);
  }
  return shapes;
}

export interface RandomCheckpointSize {
  parameterCount: number;
  /** Bytes of the tensor data in model.safetensors (the small JSON header not counted). */
  weightBytes: number;
}

/**
 * What a preset would write, computed from its configs alone (nothing is
 * allocated or written): for a dry run, and to refuse before filling the disk.
 */
export function randomCheckpointSize(
  source: RandomCheckpointPreset | CheckpointConfigFiles,
  dtype: 'F32' | 'BF16',
): RandomCheckpointSize {
  const files = typeof source === 'string' ? RANDOM_CHECKPOINT_PRESETS[source] : source;
  const text = parseTextConfig(files.textConfig);
  const config: G2vlmConfig = {
    text,
    vit: parseVitConfig(files.vitConfig),
    dino: parseDinoConfig(files.dinoConfig),
    decoders: decoderConfigFor(text),
    // Special ids do not change any tensor shape.
    specialTokens: { ...QWEN2VL_SPECIAL_TOKENS, source: 'qwen2-vl-defaults' },
  };
  let parameterCount = 0;
  for (const shape of withMaskToken(expectedTensors(config), config).values())
    parameterCount += elementCount(shape);
  return { parameterCount, weightBytes: parameterCount * (dtype === 'F32' ? 4 : 2) };
}

/**
 * Writes a random-weight checkpoint to `outDir` (which must not exist or be empty).
 * The folder appears only when complete (staged beside it, then renamed).
 */
export async function generateRandomCheckpoint(
  outDir: string,
  source: RandomCheckpointPreset | CheckpointConfigFiles,
  options: RandomCheckpointOptions,
): Promise<RandomCheckpointResult> {
  const files = typeof source === 'string' ? RANDOM_CHECKPOINT_PRESETS[source] : source;
  if (!files) {
    throw new StudioError(
      'invalid-input',
      `Unknown random checkpoint preset ${JSON.stringify(source)}.`,
      `Use one of: ${Object.keys(RANDOM_CHECKPOINT_PRESETS).join(', ')}.`,
    );
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new StudioError(
      'invalid-input',
      `The seed ${options.seed} is not an integer.`,
      'Pass an integer seed.',
    );
  }
  const existing = await fs.readdir(outDir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new StudioError(
      'invalid-input',
      `${outDir} already exists and is not empty.`,
      'Choose a new folder for the generated checkpoint.',
    );
  }
  await fs.mkdir(dirname(outDir), { recursive: true });
  const { weightBytes: needed } = randomCheckpointSize(files, options.dtype);
  const disk = await fs.statfs(dirname(outDir));
  if (disk.bavail * disk.bsize < needed + 64 * 2 ** 20) {
    throw new StudioError(
      'disk-full',
      `The checkpoint needs about ${(needed / 2 ** 30).toFixed(1)} GiB in ${dirname(outDir)}; only ${((disk.bavail * disk.bsize) / 2 ** 30).toFixed(1)} GiB are free.`,
      'Free some disk space or choose another folder.',
    );
  }
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${Date.now()}`);
  await fs.mkdir(staging);
  try {
    await writeJson(join(staging, 'text_config.json'), files.textConfig);
    await writeJson(join(staging, 'vit_config.json'), files.vitConfig);
    await writeJson(join(staging, 'dino_config.json'), files.dinoConfig);
    const presetName = typeof source === 'string' ? source : 'random';
    await writeJson(join(staging, `g2vlm_${presetName}.json`), {
      ...(files.g2vlmJson ?? {}),
      storage_dtype: options.dtype === 'F32' ? 'float32' : 'bfloat16',
      init: {
        seed: options.seed,
        generator: 'G2 Studio random-checkpoint (xoshiro128** per tensor, Box-Muller)',
        per_parameter_rule: [
          'bias ~ 0.05N',
          'layer_scale ~ 0.8+0.2N',
          'norm_weight ~ 1+0.1N',
          'embedding ~ N(0,1)',
          'dino position embeddings ~ 0.5N, cls/register/mask tokens ~ N(0,1)',
          'linear/conv weight ~ N(0, 1/fan_in)',
        ],
      },
    });
    // Parse the configs exactly as a reader will (this also validates them).
    const config = await readG2vlmConfig(staging);
    const shapes = withMaskToken(expectedTensors(config), config);
    const names = [...shapes.keys()].sort();
    let parameterCount = 0;
    const tensors: TensorToWrite[] = names.map((name) => {
      const shape = shapes.get(name)!;
      parameterCount += elementCount(shape);
      return {
        name,
        dtype: options.dtype,
        shape,
        data: () => randomChunks(name, shape, options.seed, options.dtype),
      };
    });
    options.onProgress?.({ progress: 0, stage: 'weights' });
    await writeSafetensors(join(staging, WEIGHTS_FILE), tensors, {
      metadata: { format: 'pt', generator: 'g2studio-random-checkpoint', seed: String(options.seed) },
      signal: options.signal,
      onTensorWritten: (written, total) => {
        if (options.signal?.aborted) return;
        options.onProgress?.({ progress: total === 0 ? 1 : written / total, stage: 'weights' });
      },
    });
    if (options.signal?.aborted) throw cancelledError('Generating the checkpoint');
    if (existing) await fs.rmdir(outDir);
    await fs.rename(staging, outDir);
    const weightBytes = (await fs.stat(join(outDir, WEIGHTS_FILE))).size;
    return { dir: outDir, parameterCount, weightBytes };
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    if (options.signal?.aborted && !(error instanceof StudioError && error.code === 'cancelled')) {
      throw cancelledError('Generating the checkpoint');
    }
    throw error;
  }
}
