// Which precision to convert a checkpoint to, decided before converting: the
// size each precision will take on disk and the memory a reconstruction will
// need with it, from the checkpoint's configuration alone (a real checkpoint
// takes many minutes to convert; the user chooses first). `auto` picks the most
// accurate precision whose 8-frame reconstruction fits the memory the run will
// have (GPU memory when a GPU runs the model, else free RAM), and says why.
//
// Sizes follow the converter: every tensor of the checkpoint inventory in the
// precision's float type, except the linear weights that graph/quantize.ts
// turns into MatMulNBits blocks (quantizedBytes). Checked against converted
// models in test/unit/model/engine/precision-plan.test.ts.

import type { PrecisionAdvice, PrecisionOption } from '../../common/domain';
import { elementCount } from '../checkpoint/safetensors';
import { expectedTensors } from '../checkpoint/checkpoint';
import {
  decoderConfigFor,
  parseDinoConfig,
  parseTextConfig,
  parseVitConfig,
  QWEN2VL_SPECIAL_TOKENS,
  readG2vlmConfig,
  type G2vlmConfig,
} from '../checkpoint/config';
import { RANDOM_CHECKPOINT_PRESETS } from '../checkpoint/random-presets';
import type { Precision } from '../graph/precision';
import { quantSchemeFor, quantizedBytes, weightFamily, type WeightFamily } from '../graph/quantize';
import { reconstructionMemory } from './memory-estimate';

/** The families a reconstruction loads: no vision tower, no LM head; the embedding is a Gather table. */
const RECON_FAMILIES: ReadonlySet<WeightFamily> = new Set([
  'dino',
  'llm_und',
  'llm_geo',
  'decoders',
  'heads',
  'other',
]);

/** The frames and input size `auto` plans for: a typical phone clip at the model's width. */
export const PLANNED_FRAMES = 8;
const PLANNED_INPUT = { width: 518, height: 294 };
/** Part of the memory `auto` leaves to the OS, the studio and other programs. */
const HEADROOM = 0.85;

export type PlanDevice = PrecisionAdvice['device'];

function floatBytes(precision: Precision): number {
  return precision === 'fp16' ? 2 : 4;
}

/** Bytes of one checkpoint tensor once converted at `precision`. */
function convertedTensorBytes(name: string, shape: number[], precision: Precision): number {
  const family = weightFamily(name);
  const scheme = quantSchemeFor(precision, family);
  if (scheme && shape.length === 2 && name.endsWith('.weight'))
    return quantizedBytes(scheme, shape[1], shape[0]);
  // Without a quantised form the converter stores fp16 models in fp16 and every other precision in float32.
  return elementCount(shape) * floatBytes(precision === 'fp16' ? 'fp16' : 'fp32');
}

/** Converted weight bytes, all of them or only those of some families. */
export function convertedWeightBytes(
  config: G2vlmConfig,
  precision: Precision,
  families?: ReadonlySet<WeightFamily>,
): number {
  let total = 0;
  for (const [name, shape] of expectedTensors(config)) {
    if (families && !families.has(weightFamily(name))) continue;
    total += convertedTensorBytes(name, shape, precision);
  }
  return total;
}

/**
 * Weight bytes a reconstruction keeps resident at `precision`: each range once
 * (the LLM graphs share the mapped file). fp16 counts as float32 (the CPU runs
 * an fp16 model from its float32 form, runtime/float32-form.ts; a GPU session
 * folds the widening Casts at load), except where the GPU computes in fp16
 * (WebGPU with shader-f16: runtime/float16-compute-form.ts).
 */
export function reconResidentBytes(
  config: G2vlmConfig,
  precision: Precision,
  float16Compute = false,
): number {
  const resident = convertedWeightBytes(config, precision, RECON_FAMILIES);
  return precision === 'fp16' && !float16Compute ? 2 * resident : resident;
}

/** The precisions worth offering on a device, most accurate first. */
function candidates(device: PlanDevice): Precision[] {
  // fp16 on the CPU runs from a float32 form widened once beside it: fp32's memory and speed, fp16's
  // accuracy and twice the disk. Never auto's pick there: fp32 itself is better on every count.
  return device === 'gpu' ? ['fp16', 'int8', 'int4'] : ['fp32', 'int8', 'int4'];
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Sizes and memory of every precision for this checkpoint, and `auto`'s pick for the memory given. */
export function planPrecision(
  config: G2vlmConfig,
  device: PlanDevice,
  availableBytes: number,
  checkpoint: string,
  /** The GPU computes fp16 models in fp16 (their weights stay fp16 on it). */
  gpu: { float16Compute?: boolean } = {},
): PrecisionAdvice {
  const budget = availableBytes * HEADROOM;
  const float16Compute = device === 'gpu' && gpu.float16Compute === true;
  const options: PrecisionOption[] = (['fp32', 'fp16', 'int8', 'int4'] as const).map((precision) => {
    const reconPeakBytes = reconstructionMemory(
      { config, weightsBytes: reconResidentBytes(config, precision, float16Compute), prepacking: false },
      PLANNED_FRAMES,
      PLANNED_INPUT.width,
      PLANNED_INPUT.height,
    ).peakBytes;
    return {
      precision,
      diskBytes: convertedWeightBytes(config, precision),
      reconPeakBytes,
      fits: reconPeakBytes <= budget,
    };
  });
  const byPrecision = new Map(options.map((o) => [o.precision, o]));
  const order = candidates(device);
  const where = device === 'gpu' ? 'GPU memory' : 'free memory';
  const pick = order.find((p) => byPrecision.get(p)!.fits);
  if (pick) {
    const chosen = byPrecision.get(pick)!;
    const better = order.slice(0, order.indexOf(pick)).map((p) => byPrecision.get(p)!);
    const why = better.length
      ? `${better.map((o) => `${o.precision} would need ${gib(o.reconPeakBytes)}`).join(', ')}; `
      : '';
    return {
      options,
      device,
      availableBytes,
      checkpoint,
      auto: {
        precision: pick,
        reason: `${pick}: an ${PLANNED_FRAMES}-frame reconstruction needs about ${gib(chosen.reconPeakBytes)}; ${why}${gib(availableBytes)} ${where} here.`,
      },
    };
  }
  const smallest = byPrecision.get(order[order.length - 1])!;
  return {
    options,
    device,
    availableBytes,
    checkpoint,
    auto: {
      precision: smallest.precision,
      reason: `${smallest.precision}, the smallest: even it needs about ${gib(smallest.reconPeakBytes)} for ${PLANNED_FRAMES} frames and ${gib(availableBytes)} ${where} is available here, so select fewer frames.`,
    },
  };
}

/** The official G2VLM-2B-MoT configuration (the real-2b preset holds its config files), before it is downloaded. */
function officialConfig(): G2vlmConfig {
  const files = RANDOM_CHECKPOINT_PRESETS['real-2b'];
  const text = parseTextConfig(files.textConfig);
  return {
    text,
    vit: parseVitConfig(files.vitConfig),
    dino: parseDinoConfig(files.dinoConfig),
    decoders: decoderConfigFor(text),
    specialTokens: { ...QWEN2VL_SPECIAL_TOKENS, source: 'qwen2-vl-defaults' },
  };
}

/** planPrecision for a checkpoint folder's configuration, or the official model's without one. */
export async function precisionAdvice(
  checkpointDir: string | undefined,
  device: PlanDevice,
  availableBytes: number,
  gpu: { float16Compute?: boolean } = {},
): Promise<PrecisionAdvice> {
  const config = checkpointDir ? await readG2vlmConfig(checkpointDir) : officialConfig();
  return planPrecision(config, device, availableBytes, checkpointDir ?? 'G2VLM-2B-MoT (official)', gpu);
}
