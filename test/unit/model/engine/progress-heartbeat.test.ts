// The engine client's heartbeat with real timers: while the pipeline is
// silent inside a timed stage (one ONNX run blocks the worker's thread), the
// bar moves (several events, monotone, never the stage's end before the
// pipeline says the stage ended), the time left counts down while the stage is
// within its measured time, then says 'overdue'; without history it says
// 'estimating'; the beat stops with the stage and with the request.
import { describe, expect, it } from 'vitest';
import { heartbeatFraction } from '../../../../main/common/job-stages';
import type { EngineProgress, TimedStage } from '../../../../main/model/engine/engine-types';
import { ProgressHeartbeat } from '../../../../main/model/engine/progress-heartbeat';
import { StageClock } from '../../../../main/model/runtime/stage-clock';
import { expectStage } from '../../../../main/model/runtime/stage-work';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Blocks this thread as a synchronous ONNX Runtime run blocks the worker's. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const timed = (over: Partial<TimedStage>): TimedStage => ({
  from: 0.15,
  to: 0.55,
  done: 0,
  elapsedMs: 0,
  expectedMs: 300,
  laterMs: 1000,
  estimate: 'measured',
  ...over,
});

describe('heartbeatFraction', () => {
  it('is linear to 90 % at the expected time, then creeps on, never reaching the end', () => {
    expect(heartbeatFraction(0, 1000)).toBe(0);
    expect(heartbeatFraction(500, 1000)).toBeCloseTo(0.45, 12);
    expect(heartbeatFraction(1000, 1000)).toBeCloseTo(0.9, 12);
    let previous = 0;
    for (let t = 0; t <= 100_000; t += 250) {
      const f = heartbeatFraction(t, 1000);
      expect(f).toBeGreaterThanOrEqual(previous);
      expect(f).toBeLessThan(0.98);
      previous = f;
    }
    expect(previous).toBeGreaterThan(0.97);
  });
});

describe('ProgressHeartbeat', () => {
  it('beats inside a long stage: monotone, below the end, time left then overdue, stops with the stage', async () => {
    const events: Array<EngineProgress & { at: number }> = [];
    const t0 = performance.now();
    const heartbeat = new ProgressHeartbeat((p) => events.push({ ...p, at: performance.now() - t0 }), 20);
    heartbeat.receive({ progress: 0.15, stage: 'geometry-prefill', timedStage: timed({}) });
    await sleep(500); // the stage overruns its 300 ms
    const inStage = events.filter((e) => e.stage === 'geometry-prefill');
    heartbeat.receive({ progress: 0.55, stage: 'decoders' }); // an untimed event ends the beat
    const countAfter = events.length;
    await sleep(100);
    expect(events.length).toBe(countAfter);
    expect(events.at(-1)).toEqual({ progress: 0.55, stage: 'decoders', at: events.at(-1)!.at });

    expect(inStage.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < inStage.length; i++)
      expect(inStage[i].progress).toBeGreaterThanOrEqual(inStage[i - 1].progress);
    for (const e of inStage) expect(e.progress).toBeLessThan(0.55);
    expect(inStage.at(-1)!.progress).toBeGreaterThan(0.15 + 0.4 * 0.9); // past 90 % after overrunning

    // Within the measured time: the stage's rest plus the stages after it, counting down.
    const early = inStage.filter((e) => e.at > 40 && e.at < 250);
    expect(early.length).toBeGreaterThan(2);
    for (const e of early) {
      expect(e.estimate).toBe('measured');
      expect(Math.abs(e.secondsLeft! - (300 - e.at + 1000) / 1000)).toBeLessThan(0.05);
    }
    // Past it: no time is promised.
    const late = inStage.filter((e) => e.at > 330);
    expect(late.length).toBeGreaterThan(2);
    for (const e of late) expect([e.estimate, e.secondsLeft]).toEqual(['overdue', null]);
    heartbeat.stop();
  });

  it('keeps the bar moving for a pipeline whose thread is blocked, through a real StageClock', async () => {
    const events: EngineProgress[] = [];
    const heartbeat = new ProgressHeartbeat((p) => events.push(p), 10);
    // The pipeline's events cross to this thread as the worker's messages do (a macrotask later).
    const clock = new StageClock((p) => setImmediate(() => heartbeat.receive(p)));
    clock.plan([{ stage: 'decoders', expectation: expectStage([], 'cpu', 'decoders', 2) }]);
    clock.begin('dino', 0.05, 0.15, { expectedMs: 2000, estimate: 'measured' });
    // A "worker" blocked in short slices: the heartbeat runs between them on this thread.
    for (let i = 0; i < 20; i++) {
      blockFor(5);
      await sleep(10);
    }
    const inDino = events.filter((e) => e.stage === 'dino');
    expect(inDino.length).toBeGreaterThan(5);
    expect(inDino.at(-1)!.progress).toBeGreaterThan(inDino[0].progress);
    // A later stage without history: the bar moves, no time is promised.
    for (const e of inDino) expect([e.estimate, e.secondsLeft]).toEqual(['estimating', null]);
    heartbeat.stop();
    const count = events.length;
    await sleep(50);
    expect(events.length).toBe(count);
  });

  it('real steps raise the bar, and the beat never takes it back', async () => {
    const events: EngineProgress[] = [];
    const heartbeat = new ProgressHeartbeat((p) => events.push(p), 10);
    heartbeat.receive({
      progress: 0.55,
      stage: 'decoders',
      timedStage: timed({ from: 0.55, to: 0.95, expectedMs: 10_000 }),
    });
    heartbeat.receive({
      progress: 0.75,
      stage: 'decoders',
      timedStage: timed({ from: 0.55, to: 0.95, expectedMs: 10_000, done: 0.5, elapsedMs: 20 }),
    });
    expect(events.at(-1)!.progress).toBeCloseTo(0.75, 12);
    await sleep(50);
    for (const e of events.slice(1)) expect(e.progress).toBeGreaterThanOrEqual(0.75);
    heartbeat.stop();
  });
});

describe('expectStage', () => {
  it("uses the stage's own rate, else the machine's other stages, else a slow first-run guess", () => {
    const rates = [
      { provider: 'cpu', stage: 'dino', msPerGflop: 10 },
      { provider: 'cpu', stage: 'decoders', msPerGflop: 30 },
      { provider: 'webgpu', stage: 'geometry-prefill', msPerGflop: 1 },
    ];
    expect(expectStage(rates, 'cpu', 'dino', 3)).toEqual({ expectedMs: 30, estimate: 'measured' });
    expect(expectStage(rates, 'cpu', 'geometry-prefill', 3)).toEqual({
      expectedMs: 60,
      estimate: 'estimating',
    });
    const first = expectStage([], 'cpu', 'dino', 3);
    expect(first.estimate).toBe('estimating');
    expect(first.expectedMs).toBeGreaterThan(60); // slower than this machine measured
  });
});
