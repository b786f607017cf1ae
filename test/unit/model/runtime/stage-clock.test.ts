// The progress clock with real timers: inside a stage that is one long step,
// the heartbeat moves the bar (monotone, never to the stage's end before it
// ends), sends the time left while the stage is within its measured time,
// says 'overdue' after, 'estimating' without history, and stops with the stage.
import { describe, expect, it } from 'vitest';
import { heartbeatFraction } from '../../../../main/common/job-stages';
import type { EngineProgress } from '../../../../main/model/engine/engine-types';
import { StageClock } from '../../../../main/model/runtime/stage-clock';
import { expectStage } from '../../../../main/model/runtime/stage-work';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('heartbeatFraction', () => {
  it('is linear to 90 % at the expected time, then creeps on, never reaching the end', () => {
    expect(heartbeatFraction(0, 1000)).toBe(0);
    expect(heartbeatFraction(500, 1000)).toBeCloseTo(0.45, 12);
    expect(heartbeatFraction(1000, 1000)).toBeCloseTo(0.9, 12);
    let previous = 0;
    for (let t = 0; t <= 50_000; t += 250) {
      const f = heartbeatFraction(t, 1000);
      expect(f).toBeGreaterThanOrEqual(previous);
      expect(f).toBeLessThan(0.98);
      previous = f;
    }
    expect(previous).toBeGreaterThan(0.97);
  });
});

describe('StageClock', () => {
  it('beats inside a long stage: several events, monotone, below the end, time left then overdue', async () => {
    const events: Array<EngineProgress & { at: number }> = [];
    const t0 = performance.now();
    const clock = new StageClock((p) => events.push({ ...p, at: performance.now() - t0 }), 20);
    clock.plan([{ stage: 'decoders', expectation: { expectedMs: 1000, estimate: 'measured' } }]);
    clock.begin('geometry-prefill', 0.15, 0.55, { expectedMs: 300, estimate: 'measured' });
    await sleep(500); // the stage overruns its 300 ms
    const inStage = events.filter((e) => e.stage === 'geometry-prefill');
    const ranMs = clock.end();
    const countAtEnd = events.length;
    await sleep(100);
    expect(events.length).toBe(countAtEnd); // the heartbeat stopped with the stage

    expect(ranMs).toBeGreaterThanOrEqual(490);
    expect(inStage.length).toBeGreaterThanOrEqual(10);
    for (let i = 1; i < inStage.length; i++)
      expect(inStage[i].progress).toBeGreaterThanOrEqual(inStage[i - 1].progress);
    expect(inStage.at(-1)!.progress).toBeGreaterThan(inStage[0].progress);
    for (const e of inStage) expect(e.progress).toBeLessThan(0.55);
    expect(inStage.at(-1)!.progress).toBeGreaterThan(0.15 + 0.4 * 0.9); // past 90 % of the span after overrunning

    // Within the measured time: this stage's rest plus the stages after it.
    const early = inStage.filter((e) => e.at > 40 && e.at < 250);
    expect(early.length).toBeGreaterThan(2);
    for (const e of early) {
      expect(e.estimate).toBe('measured');
      const expected = (300 - e.at + 1000) / 1000;
      expect(Math.abs(e.secondsLeft! - expected)).toBeLessThan(0.05);
    }
    // Past it: no time is promised.
    const late = inStage.filter((e) => e.at > 330);
    expect(late.length).toBeGreaterThan(2);
    for (const e of late) expect([e.estimate, e.secondsLeft]).toEqual(['overdue', null]);
  });

  it('says estimating, with no time, while a stage ahead has no history', async () => {
    const events: EngineProgress[] = [];
    const clock = new StageClock((p) => events.push(p), 10);
    clock.plan([{ stage: 'decoders', expectation: expectStage([], 'cpu', 'decoders', 2) }]);
    clock.begin('dino', 0.05, 0.15, { expectedMs: 5000, estimate: 'measured' });
    await sleep(80);
    clock.end();
    expect(events.length).toBeGreaterThan(3);
    for (const e of events) expect([e.estimate, e.secondsLeft]).toEqual(['estimating', null]);
  });

  it('real steps raise the bar, and the clock never takes it back', async () => {
    const events: EngineProgress[] = [];
    const clock = new StageClock((p) => events.push(p), 10);
    clock.begin('decoders', 0.55, 0.95, { expectedMs: 10_000, estimate: 'measured' });
    clock.step(0.5);
    expect(events.at(-1)!.progress).toBeCloseTo(0.75, 12);
    await sleep(50);
    for (const e of events.slice(1)) expect(e.progress).toBeGreaterThanOrEqual(0.75);
    clock.step(1);
    expect(events.at(-1)!.progress).toBeCloseTo(0.95, 12);
    clock.stop();
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
