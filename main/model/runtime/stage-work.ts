// How much work a long stage is, in GFLOPs estimated from the model's
// configuration and the request's shapes, and how long it should take on this
// machine: a stage's measured milliseconds per GFLOP (kept by the studio per
// model and provider) times its work. Counting FLOPs rather than frames or
// tokens lets a rate measured with 4 frames predict 12 (DINO is linear in the
// frames, the geometry block's attention is quadratic in its rows). Only the
// matrix products are counted (2 FLOPs per multiply-add); norms, softmax and
// the like are in the measured rate.
import type { StageEstimate } from '../../common/job-stages';
import type { StageRate } from '../engine/engine-types';
import type { ModelManifest } from './model-manifest';

const GIGA = 1e9;

/**
 * Rates assumed before anything was measured, on the slow side so a first
 * run's bar is more likely to finish a stage early than to stand at its cap,
 * yet close enough to move: the real-2b architecture on this project's 2-core
 * machine measured about 15 ms/GFLOP for DINO (1,070 GFLOP, ~16 s, 2 frames)
 * and 12 for the geometry block (4,529 GFLOP, ~55 s); 30 is half that speed.
 * A GPU guess of 5 ms/GFLOP (200 GFLOP/s) is a weak one. Only the first stage
 * of a first run uses these: later stages borrow the rate just measured. A
 * first run says 'estimating' and promises no time.
 */
const FIRST_RUN_MS_PER_GFLOP: Record<string, number> = { cpu: 30 };
const FIRST_RUN_GPU_MS_PER_GFLOP = 5;

/** DINO (model doc §4): N·(1+R+P) rows through the encoder, attention in windows of P rows, dino2llm. */
export function dinoGflop(manifest: ModelManifest, frames: number, patchesPerFrame: number): number {
  const d = manifest.configs.dino;
  const Dd = d.hiddenSize;
  const rows = frames * (1 + d.numRegisters + patchesPerFrame);
  const windowRows = frames * patchesPerFrame;
  const perLayer =
    rows * 2 * (4 * Dd * Dd + 2 * Dd * d.mlpHiddenSize) + windowRows * 4 * Dd * patchesPerFrame;
  const patchEmbed = windowRows * 2 * d.numChannels * d.patchSize * d.patchSize * Dd;
  const dino2llm = windowRows * 2 * Dd * manifest.configs.text.hiddenSize;
  return (d.numLayers * perLayer + patchEmbed + dino2llm) / GIGA;
}

/** One block of `rows` LLM rows over `pastRows` cached ones (model doc §5): projections, MLP, attention. */
export function llmBlockGflop(manifest: ModelManifest, rows: number, pastRows: number): number {
  const t = manifest.configs.text;
  const D = t.hiddenSize;
  const kv = t.numKvHeads * t.headDim;
  const projections = 2 * (2 * D * D + 2 * D * kv + 3 * D * t.intermediateSize);
  // Every row attends to the whole block and the cache (the geometry block is non-causal).
  const attention = 4 * t.numHeads * t.headDim * (pastRows + rows);
  return (t.numLayers * rows * (projections + attention)) / GIGA;
}

/** The point, camera and global decoders (model doc §7): three depth-`depth` stacks per frame, attention within a frame. */
export function decodersGflop(manifest: ModelManifest, frames: number, patchesPerFrame: number): number {
  const c = manifest.configs.decoders;
  const W = c.width;
  const perRow = 2 * (4 * W * W + 2 * c.mlpRatio * W * W) + 4 * W * patchesPerFrame;
  return (3 * c.depth * frames * patchesPerFrame * perRow) / GIGA;
}

/** A stage's expected duration and whether it rests on a measurement. */
export interface StageExpectation {
  expectedMs: number;
  estimate: Exclude<StageEstimate, 'overdue'>;
}

/**
 * The expected duration of `stage` (of `gflop` work) on `provider`: its own
 * measured rate when there is one; else, marked 'estimating', the mean rate
 * of this model's other stages on this provider (the machine's speed, roughly),
 * else the conservative first-run rate.
 */
export function expectStage(
  rates: readonly StageRate[],
  provider: string,
  stage: string,
  gflop: number,
): StageExpectation {
  const usable = rates.filter(
    (r) => r.provider === provider && r.msPerGflop > 0 && Number.isFinite(r.msPerGflop),
  );
  const own = usable.find((r) => r.stage === stage);
  if (own) return { expectedMs: own.msPerGflop * gflop, estimate: 'measured' };
  if (usable.length > 0) {
    const mean = usable.reduce((sum, r) => sum + r.msPerGflop, 0) / usable.length;
    return { expectedMs: mean * gflop, estimate: 'estimating' };
  }
  const firstRun = FIRST_RUN_MS_PER_GFLOP[provider] ?? FIRST_RUN_GPU_MS_PER_GFLOP;
  return { expectedMs: firstRun * gflop, estimate: 'estimating' };
}

/** The Qwen2-VL vision tower over one image of `patches` patches (full attention within the image). */
export function visionTowerGflop(manifest: ModelManifest, patches: number): number {
  const v = manifest.configs.vit;
  const E = v.embedDim;
  const perRow = 2 * (4 * E * E + 2 * v.mlpRatio * E * E) + 4 * E * patches;
  return (v.depth * patches * perRow) / GIGA;
}

/**
 * The rates with one just measured in place of the stage's earlier one: the
 * stages after it in the same request, when they have no rate of their own,
 * borrow this machine's speed as measured right now (expectStage).
 */
export function withMeasuredRate(
  rates: readonly StageRate[],
  provider: string,
  stage: string,
  gflop: number,
  ms: number,
): StageRate[] {
  if (!(gflop > 0) || !(ms > 0)) return rates.slice();
  return [
    ...rates.filter((r) => !(r.provider === provider && r.stage === stage)),
    { provider, stage, msPerGflop: ms / gflop },
  ];
}
