// A pipeline's progress by stage. Each stage owns a span of the request's
// bar; where its work is separable it reports real steps (decoded frames,
// decoder batches). A stage with an expected duration (stage-work.ts) also
// sends that expectation with its events (EngineProgress.timedStage): the
// stage may be one ONNX Runtime run, which blocks this thread
// (onnxruntime-node's run is synchronous), so the bar is moved between these
// events by the engine client's heartbeat on the main thread
// (engine/progress-heartbeat.ts), not by a timer here.
import type { EngineProgress } from '../engine/engine-types';
import type { StageExpectation } from './stage-work';

/** A stage still to come, for the time left. */
export interface PlannedStage {
  stage: string;
  expectation: StageExpectation;
}

export class StageClock {
  private stage = '';
  private from = 0;
  private to = 0;
  private startedAt = 0;
  private expectation: StageExpectation | undefined;
  /** Real progress inside the current stage, 0..1. */
  private done = 0;
  private lastEmitted = 0;
  private upcoming: PlannedStage[] = [];

  constructor(private readonly emit: (p: EngineProgress) => void) {}

  /** The stages after the next one with their expectations (for the time left); replaces any earlier plan. */
  plan(stages: PlannedStage[]): void {
    this.upcoming = stages.slice();
  }

  /** Starts `stage` over [from, to] of the bar, timed when its duration is expected. */
  begin(stage: string, from: number, to: number, expectation?: StageExpectation): void {
    this.stage = stage;
    this.from = from;
    this.to = to;
    this.startedAt = performance.now();
    this.expectation = expectation;
    this.done = 0;
    this.upcoming = this.upcoming.filter((s) => s.stage !== stage);
    this.send();
  }

  /** Real progress inside the current stage (0..1 of it). */
  step(fraction: number): void {
    this.done = Math.max(this.done, Math.min(1, fraction));
    this.send();
  }

  /** How long the current stage has run, ms. */
  end(): number {
    return performance.now() - this.startedAt;
  }

  private send(): void {
    // Monotone even when a stage begins again (runReconstruction's decoding, then preprocessing).
    const value = Math.max(this.lastEmitted, this.from + (this.to - this.from) * this.done);
    this.lastEmitted = value;
    const e = this.expectation;
    const event: EngineProgress = { progress: value, stage: this.stage };
    if (e && e.expectedMs > 0) {
      const later = this.upcoming.map((s) => s.expectation);
      event.timedStage = {
        from: this.from,
        to: this.to,
        done: this.done,
        elapsedMs: performance.now() - this.startedAt,
        expectedMs: e.expectedMs,
        laterMs: later.reduce((sum, x) => sum + x.expectedMs, 0),
        estimate: [e, ...later].every((x) => x.estimate === 'measured') ? 'measured' : 'estimating',
      };
    }
    this.emit(event);
  }
}
