// `npm run bench -- precision`: the medium checkpoint converted at every
// precision, reconstructing 8 frames of dl3dv-walk: wall time, peak RSS, the
// estimate beside it, and the accuracy against float32 (docs/precisions.md).
// Set G2_BENCH_REAL_2B=<checkpoint dir> to add the real architecture (4 frames;
// run it under `flock /tmp/g2-heavy.lock`, it needs up to 17 GB in fp32).
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure, BenchSection } from './bench-types';
import { extractFrames, timeReconstruction, type ReconBench } from './model-bench';
import { reconAccuracy } from './precision-accuracy';
import { SHARED_DIR } from './shared-dir';
import { generateRandomCheckpoint } from '../model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../model/convert/convert-checkpoint';
import { estimateReconstructionMemory } from '../model/engine/memory-estimate';
import type { Precision } from '../model/graph/precision';

const GiB = 2 ** 30;

async function benchCheckpoint(
  label: string,
  checkpoint: string,
  frameCount: number,
  precisions: Precision[],
  work: string,
): Promise<{ figures: BenchFigure[]; rows: string[] }> {
  const frames = await extractFrames(
    join(SHARED_DIR, 'samples/video/dl3dv-walk.mp4'),
    frameCount,
    join(work, `frames-${label}`),
  );
  const figures: BenchFigure[] = [];
  const rows: string[] = [];
  let reference: ReconBench | undefined;
  for (const precision of precisions) {
    const modelDir = join(work, `${label}-${precision}`);
    await convertCheckpoint(checkpoint, modelDir, { precision });
    const weights = (await fs.stat(join(modelDir, 'weights.bin'))).size;
    const run = await timeReconstruction(modelDir, frames, 1);
    const estimate = await estimateReconstructionMemory(modelDir, frameCount, 960, 540, {
      availableBytes: 64 * GiB,
    });
    reference ??= run;
    const a = reconAccuracy(run.output, reference.output);
    const rss = run.peakRssBytes ?? 0;
    figures.push({
      label: `${label} ${precision}: recon ${frameCount} frames`,
      value: run.seconds,
      unit: 's',
      baseline: { label: `${label} fp32`, value: reference.seconds },
      ratio: run.seconds / reference.seconds,
    });
    figures.push({
      label: `${label} ${precision}: peak RSS (estimate as baseline)`,
      value: rss / GiB,
      unit: 'GiB',
      baseline: { label: 'estimate', value: estimate.peakBytes / GiB },
      ratio: estimate.peakBytes / Math.max(rss, 1),
    });
    rows.push(
      `${label} ${precision}: weights ${(weights / GiB).toFixed(3)} GiB; local points rel. err median ${a.localRelMedian.toPrecision(3)} / p99 ${a.localRelP99.toPrecision(3)}; ` +
        `world median ${a.worldRelMedian.toPrecision(3)} / p99 ${a.worldRelP99.toPrecision(3)}; rotation ${a.rotationDegMax.toPrecision(3)}°; translation rel. ${a.translationRelMax.toPrecision(3)}`,
    );
    await fs.rm(modelDir, { recursive: true, force: true });
  }
  return { figures, rows };
}

export async function runPrecisionBench(): Promise<BenchSection> {
  const work = await fs.mkdtemp(join(tmpdir(), 'g2-precision-bench-'));
  try {
    const checkpoint = join(work, 'medium-ckpt');
    await generateRandomCheckpoint(checkpoint, 'medium', { dtype: 'BF16', seed: 0 });
    const medium = await benchCheckpoint('medium', checkpoint, 8, ['fp32', 'fp16', 'int8', 'int4'], work);
    const figures = [...medium.figures];
    const notes = [
      'Accuracy against fp32 of the same run (random weights: no outlier channels, so real checkpoints may do worse at int4; see docs/precisions.md):',
      ...medium.rows,
    ];
    const real = process.env.G2_BENCH_REAL_2B;
    if (real && existsSync(real)) {
      const big = await benchCheckpoint('real-2b', real, 4, ['int8', 'int4'], work);
      figures.push(...big.figures);
      notes.push(...big.rows);
    }
    notes.push(
      'Peak RSS is VmHWM of the bench process, reset before each precision (earlier outputs still held).',
    );
    return { name: 'precision', figures, notes };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
