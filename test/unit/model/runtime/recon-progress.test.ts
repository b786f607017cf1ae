// Progress inside the long stages of a real reconstruction (tiny-a golden
// model, ONNX Runtime on the CPU, in the real engine worker): DINO and the
// geometry prefill are one ONNX run each, which blocks the worker's thread, so
// their progress comes from the engine client's heartbeat. It must fire while
// the run is in flight (several events inside the stage), move monotonically,
// never show the stage's end before it ends, say 'estimating' without history
// and give a time left once the stage rates of a previous run are known —
// without changing a single output value.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineProgress, FrameInput, StageRate } from '../../../../main/model/engine/engine-types';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import { EngineClient } from '../../../../main/model/engine/engine-client';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'recon-progress-'));
const modelDir = join(work, 'model');
const golden = new GoldenTensorReader(GOLDEN);
const frames: FrameInput[] = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'].map((name) => ({
  name,
  bytes: fs.readFileSync(join(GOLDEN, 'inputs/images', name)),
}));

/** The bar's span of each stage (recon-pipeline.ts). */
const SPANS: Record<string, [number, number]> = {
  dino: [0.05, 0.15],
  'geometry-prefill': [0.15, 0.55],
};

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
});
// The golden frames four times over: the same work per frame, 12 frames' worth of
// DINO and a geometry block of 12 frames (tiny-a's 3-frame DINO is ~14 ms, too short
// to count beats in on a loaded machine).
const slowFrames: FrameInput[] = [...frames, ...frames, ...frames, ...frames];
const engine = new EngineClient({ heartbeatMs: 5 });
const run = (
  input: FrameInput[],
  stageRates: StageRate[] | undefined,
  onProgress: (p: EngineProgress) => void,
) =>
  engine.reconstruct(
    { modelDir, frames: input, executionProvider: 'cpu', ...(stageRates ? { stageRates } : {}) },
    { signal: new AbortController().signal, onProgress },
  );

afterAll(async () => {
  await engine.close();
  await golden.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function checkInsideStages(events: EngineProgress[], minEvents: number): void {
  // The engine's own events cross the thread boundary; none carries the pipeline's timing spec.
  for (const e of events) expect(e.timedStage).toBeUndefined();
  for (let i = 1; i < events.length; i++)
    expect(events[i].progress).toBeGreaterThanOrEqual(events[i - 1].progress);
  for (const [stage, [from, to]] of Object.entries(SPANS)) {
    const inStage = events.filter((e) => e.stage === stage);
    // The heartbeat beat while the one ONNX run was in flight.
    expect(inStage.length, stage).toBeGreaterThanOrEqual(minEvents);
    if (minEvents > 1) expect(inStage.at(-1)!.progress, stage).toBeGreaterThan(inStage[0].progress);
    for (const e of inStage) {
      expect(e.progress).toBeGreaterThanOrEqual(from);
      expect(e.progress).toBeLessThan(to);
    }
  }
}

describe('reconstruction progress inside a stage', () => {
  it('beats during DINO and the geometry prefill, estimating at first, then with a time left from the measured rates', async () => {
    const first: EngineProgress[] = [];
    const slow = await run(slowFrames, undefined, (p) => first.push(p));
    expect(slow.frameCount).toBe(12);
    checkInsideStages(first, 3);
    // No history: the bar moves on a guess and no time is promised.
    for (const e of first.filter((e) => e.stage in SPANS)) {
      expect(e.estimate === 'estimating' || e.estimate === 'overdue').toBe(true);
      expect(e.secondsLeft).toBeNull();
    }

    // Every long stage was measured: work (GFLOPs) and time.
    const measured = slow.stageMeasurements ?? [];
    expect(measured.map((m) => m.stage)).toEqual(['dino', 'geometry-prefill', 'decoders']);
    for (const m of measured) {
      expect(m.gflop).toBeGreaterThan(0);
      expect(m.ms).toBeGreaterThan(0);
    }

    // With those rates (as the studio stores them), the next run (the 3 golden
    // frames: less work, so less time) promises a time, and the beat changed no value.
    const rates: StageRate[] = measured.map((m) => ({
      provider: slow.executionProvider,
      stage: m.stage,
      msPerGflop: m.ms / m.gflop,
    }));
    const second: EngineProgress[] = [];
    const out = await run(frames, rates, (p) => second.push(p));
    checkInsideStages(second, 1);
    const promised = second.filter((e) => e.stage in SPANS && e.estimate === 'measured');
    expect(promised.length).toBeGreaterThan(0);
    const total = measured.reduce((sum, m) => sum + m.ms, 0) / 1000;
    for (const e of promised) {
      expect(e.secondsLeft).toBeGreaterThan(0);
      // A quarter of the frames: less than the 12-frame run's three long stages took.
      expect(e.secondsLeft!).toBeLessThan(total);
    }
    // A stage that overran its measured time says so instead of promising.
    for (const e of second.filter((e) => e.estimate === 'overdue')) expect(e.secondsLeft).toBeNull();

    // Parity with the official outputs holds.
    const poses = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_poses')).data;
    expect(compareAllclose(out.worldFromCamera, poses, 2e-4, 1e-4).pass).toBe(true);
    const points = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.points')).data;
    expect(compareAllclose(out.worldPoints, points, 2.2e-3, 2e-4).pass).toBe(true);
  });
});
