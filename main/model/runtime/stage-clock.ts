// A pipeline's progress, honest inside long stages. Each stage owns a span of
// the request's bar. Where a stage's work is separable it reports real steps
// (decoder batches, decoded frames); a stage that is one ONNX Runtime run
// cannot, so while it runs a heartbeat (a timer, about once a second) moves
// the bar by the stage's expected duration (stage-work.ts), capped below the
// span's end (heartbeatFraction), and sends the time left. ONNX Runtime runs
// on its own threads, so the timer fires while a run is in flight; it never
// does work of its own and is unref'd, so it holds no process open.
import { heartbeatFraction, type StageEstimate } from '../../common/job-stages';
import type { EngineProgress } from '../engine/engine-types';
import type { StageExpectation } from './stage-work';

/** Milliseconds between heartbeats. */
export const HEARTBEAT_MS = 1000;

/** A stage still to come, for the time left. */
interface PlannedStage {
  stage: string;
  expectation: StageExpectation;
}

export class StageClock {
  private stage = '';
  private from = 0;
  private to = 0;
  private startedAt = 0;
  private expectation: StageExpectation | undefined;
  /** Real progress inside the current stage, 0..1 (a floor for the heartbeat). */
  private done = 0;
  private lastEmitted = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private upcoming: PlannedStage[] = [];

  constructor(
    private readonly emit: (p: EngineProgress) => void,
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {}

  /** The stages after the current one with their expectations (for the time left); replaces any earlier plan. */
  plan(stages: PlannedStage[]): void {
    this.upcoming = stages.slice();
  }

  /**
   * Starts `stage` over [from, to] of the bar. With an expectation the bar
   * moves by the clock while the stage runs and the time left is sent; without
   * one it moves only by step().
   */
  begin(stage: string, from: number, to: number, expectation?: StageExpectation): void {
    this.stopTimer();
    this.stage = stage;
    this.from = from;
    this.to = to;
    this.startedAt = performance.now();
    this.expectation = expectation;
    this.done = 0;
    this.upcoming = this.upcoming.filter((s) => s.stage !== stage);
    this.send(0);
    if (expectation && expectation.expectedMs > 0) {
      this.timer = setInterval(() => this.send(this.fractionNow()), this.heartbeatMs);
      this.timer.unref?.();
    }
  }

  /** Real progress inside the current stage (0..1 of it). */
  step(fraction: number): void {
    this.done = Math.max(this.done, Math.min(1, fraction));
    this.send(Math.max(this.done, this.fractionNow()));
  }

  /** Ends the current stage (stops its heartbeat) and returns how long it ran, ms. */
  end(): number {
    this.stopTimer();
    return performance.now() - this.startedAt;
  }

  /** Stops the heartbeat for good (the request ended, or failed). */
  stop(): void {
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private fractionNow(): number {
    const e = this.expectation;
    const byClock = e ? heartbeatFraction(performance.now() - this.startedAt, e.expectedMs) : 0;
    // Real steps may pass the clock, but the clock never shows the stage ended.
    return Math.max(this.done, Math.min(byClock, 0.98));
  }

  private send(fraction: number): void {
    const value = Math.max(this.lastEmitted, this.from + (this.to - this.from) * fraction);
    this.lastEmitted = value;
    this.emit({ progress: value, stage: this.stage, ...this.timeLeft() });
  }

  private timeLeft(): { secondsLeft: number | null; estimate: StageEstimate } | Record<string, never> {
    const current = this.expectation;
    if (!current) return {};
    const elapsed = performance.now() - this.startedAt;
    if (elapsed > current.expectedMs) return { secondsLeft: null, estimate: 'overdue' };
    const all = [current, ...this.upcoming.map((s) => s.expectation)];
    if (all.some((e) => e.estimate !== 'measured')) return { secondsLeft: null, estimate: 'estimating' };
    const laterMs = this.upcoming.reduce((sum, s) => sum + s.expectation.expectedMs, 0);
    return { secondsLeft: (current.expectedMs - elapsed + laterMs) / 1000, estimate: 'measured' };
  }
}
