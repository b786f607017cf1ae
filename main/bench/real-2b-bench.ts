// `npm run bench -- real-2b`: the real G2VLM-2B-MoT architecture (4.54 B
// parameters, random weights) the way a user runs it: each conversion and each
// reconstruction is a fresh `g2studio` process (the built CLI), its peak RSS
// read from /proc/<pid>/status (VmHWM, polled; the high-water mark only grows)
// and set beside the estimate the engine refuses by (`reconstruct --estimate`).
// Then one chat question per precision (chat-probe-child.ts, one 768 px image,
// 32 decode steps): prefill, decode ms/token, peak RSS beside the chat estimate,
// and against fp32 the teacher-forced top-1 agreement and max logit difference.
//
// Heavy: ~8.5 GB of checkpoint, up to 17 GB of converted fp32 weights and up to
// 17 GB of RAM. Run it alone:
//   G2_BENCH_REAL_2B=<checkpoint dir, made once with
//     `g2studio model generate-random <dir> --preset real-2b`>
//   G2_BENCH_REAL_2B_WORK=<folder for the converted models; kept, so a rerun reuses them>
//   G2_BENCH_REAL_2B_PRECISIONS=int8,int4,fp32,fp16   G2_BENCH_REAL_2B_FRAMES=2,4,8
import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { listFromEnv, runCli } from './bench-process';
import type { BenchFigure, BenchSection } from './bench-types';
import { chatAccuracy } from './chat-accuracy';
import { CHAT_PROBE_IMAGES, ensureTestTokenizer, probeChatInChild } from './chat-probe';
import { SHARED_DIR } from './shared-dir';

const GiB = 2 ** 30;
/** The official PyTorch float32 run of 4 frames on the reference machine (shared/bench/g2vlm-medium). */
const OFFICIAL_4_FRAMES = { seconds: 137, peakGiB: 15.5 };
/** Greedy decode steps per chat probe (teacher-forced on the fp32 run's inputs for the others). */
const CHAT_STEPS = 32;
/** The decode target for int4 on a CPU. */
const INT4_DECODE_TARGET_MS = 150;

/** One chat question of a precision in a fresh process: 1 image at 768 px, CHAT_STEPS steps. */
function probeChatOf(
  work: string,
  modelDir: string,
  precision: string,
  reference?: { stepInputs: number[] },
): ReturnType<typeof probeChatInChild> {
  ensureTestTokenizer(modelDir);
  return probeChatInChild(work, precision, {
    modelDir,
    images: [CHAT_PROBE_IMAGES[0]],
    visionImageSize: 768,
    steps: CHAT_STEPS,
    ...(reference ? { forcedInputs: reference.stepInputs } : {}),
  });
}

export async function runReal2bBench(): Promise<BenchSection> {
  const checkpoint = process.env.G2_BENCH_REAL_2B;
  if (!checkpoint || !existsSync(join(checkpoint, 'model.safetensors'))) {
    return {
      name: 'real-2b',
      figures: [],
      notes: [
        'NOT RUN: set G2_BENCH_REAL_2B to a checkpoint of the real architecture (`g2studio model generate-random <dir> --preset real-2b`, 8.5 GB) and G2_BENCH_REAL_2B_WORK to a folder with room for the converted models.',
      ],
    };
  }
  const work = resolve(process.env.G2_BENCH_REAL_2B_WORK ?? join(checkpoint, '..', 'real-2b-bench'));
  await fs.mkdir(work, { recursive: true });
  const precisions = listFromEnv('G2_BENCH_REAL_2B_PRECISIONS', ['int8', 'int4', 'fp32', 'fp16']);
  const frameCounts = listFromEnv('G2_BENCH_REAL_2B_FRAMES', ['2', '4', '8']).map(Number);
  const library = join(work, 'library');
  const cli = (...args: string[]) => runCli(['--library', library, '--provider', 'cpu', ...args]);

  // One scene per frame count, from the same video (960x540 -> 518x294 model input).
  const scenes = new Map<number, string>();
  for (const n of frameCounts) {
    const name = `walk-${n}`;
    const listed = await cli('--json', 'list');
    const existing = (JSON.parse(listed.stdout) as Array<{ id: string; name: string }>).find(
      (s) => s.name === name,
    );
    if (existing) {
      scenes.set(n, existing.id);
      continue;
    }
    const video = join(SHARED_DIR, 'samples/video/dl3dv-walk.mp4');
    const imported = await cli('--json', 'import', video, '--frames', String(n), '--name', name);
    if (imported.code !== 0) throw new Error(`import of ${n} frames failed: ${imported.stderr}`);
    scenes.set(n, (JSON.parse(imported.stdout) as { id: string }).id);
  }

  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  for (const precision of precisions) {
    const model = join(work, `model-${precision}`);
    if (!existsSync(join(model, 'manifest.json'))) {
      const converted = await cli('model', 'convert', checkpoint, '--out', model, '--precision', precision);
      if (converted.code !== 0) throw new Error(`convert ${precision} failed: ${converted.stderr}`);
      figures.push({
        label: `real-2b convert to ${precision}: peak RSS (limit 3.5 GB)`,
        value: converted.peakBytes / GiB,
        unit: 'GiB',
        baseline: { label: 'issue #10 limit', value: 3.5e9 / GiB },
        ratio: converted.peakBytes / 3.5e9,
      });
      notes.push(`convert ${precision}: ${converted.seconds.toFixed(0)} s`);
    }
    const weights = (await fs.stat(join(model, 'weights.bin'))).size;
    notes.push(`${precision}: weights ${(weights / GiB).toFixed(2)} GiB on disk`);
    for (const n of frameCounts) {
      const scene = scenes.get(n)!;
      const estimated = await cli('--json', 'reconstruct', scene, '--model', model, '--estimate');
      const estimate = (JSON.parse(estimated.stdout) as { estimate: { peakBytes: number } }).estimate;
      const run = await cli('reconstruct', scene, '--model', model);
      if (run.code !== 0) {
        notes.push(`${precision} ${n} frames FAILED: ${run.stderr.trim().split('\n').slice(-2).join(' ')}`);
        continue;
      }
      figures.push({
        label: `real-2b ${precision}, ${n} frames at 518x294: peak RSS (ratio = estimate / measured, band 1.0-1.35)`,
        value: run.peakBytes / GiB,
        unit: 'GiB',
        baseline: { label: 'estimate', value: estimate.peakBytes / GiB },
        ratio: estimate.peakBytes / run.peakBytes,
      });
      figures.push({
        label: `real-2b ${precision}, ${n} frames: wall time of the whole CLI process`,
        value: run.seconds,
        unit: 's',
        ...(n === 4
          ? {
              baseline: {
                label: 'official PyTorch fp32, 4 frames (published)',
                value: OFFICIAL_4_FRAMES.seconds,
              },
              ratio: run.seconds / OFFICIAL_4_FRAMES.seconds,
            }
          : {}),
      });
    }
  }
  // Chat: one 1296x968 image at 768 px, 32 steps; fp32 first, the others teacher-forced on its inputs.
  const chatOrder = [...precisions].sort((a, b) => (a === 'fp32' ? -1 : b === 'fp32' ? 1 : 0));
  let reference: { stepInputs: number[]; logits: Float32Array; vocab: number } | undefined;
  for (const precision of chatOrder) {
    const model = join(work, `model-${precision}`);
    if (!existsSync(join(model, 'manifest.json'))) continue;
    const { run, result, logits } = await probeChatOf(work, model, precision, reference);
    if (precision === 'fp32') reference = { stepInputs: result.stepInputs, logits, vocab: result.vocab };
    figures.push(
      {
        label: `real-2b ${precision} chat, 1 image at 768 px: prefill (system + geometry + vision)`,
        value: result.prefixPrefillMs / 1000,
        unit: 's',
      },
      {
        label: `real-2b ${precision} chat: decode`,
        value: result.decodeMsPerToken,
        unit: 'ms/token',
        ...(precision === 'int4'
          ? {
              baseline: { label: 'issue #10 target', value: INT4_DECODE_TARGET_MS },
              ratio: result.decodeMsPerToken / INT4_DECODE_TARGET_MS,
            }
          : {}),
      },
      {
        label: `real-2b ${precision} chat: peak RSS of the question's process (ratio = estimate / measured)`,
        value: run.peakBytes / GiB,
        unit: 'GiB',
        baseline: { label: 'chat estimate', value: result.estimatePeakBytes / GiB },
        ratio: result.estimatePeakBytes / run.peakBytes,
      },
    );
    if (reference && precision !== 'fp32') {
      const a = chatAccuracy(logits, reference.logits, reference.vocab);
      notes.push(
        `chat ${precision} vs fp32, teacher-forced over ${a.steps} steps: top-1 agreement ${(100 * a.top1Agreement).toFixed(1)}%, ` +
          `max logit difference ${a.maxLogitDiff.toPrecision(3)} (fp32 logits span ${a.referenceLogitRange.toPrecision(3)})`,
      );
    }
  }
  notes.push(
    `Official PyTorch fp32, 4 frames: ${OFFICIAL_4_FRAMES.seconds} s, peak RSS ${OFFICIAL_4_FRAMES.peakGiB} GiB (shared/bench/g2vlm-medium/README.md).`,
    'Each run is a fresh `g2studio reconstruct` process (CLI, library and the engine worker thread together); peak RSS is its VmHWM, which counts file pages once per mapping.',
  );
  return { name: 'real-2b', figures, notes };
}
