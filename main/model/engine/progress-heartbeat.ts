// Moves a request's progress while the engine worker's thread is inside one
// ONNX Runtime run (onnxruntime-node runs synchronously, so the worker can
// send nothing then). The pipeline marks a stage with its expected duration
// (EngineProgress.timedStage); until its next event, a timer on this (free)
// thread sends the stage's progress about once a second by that expectation,
// capped below the stage's end (heartbeatFraction), with the time left:
// measured rates give seconds; no history gives 'estimating'; a stage past
// its expected time gives 'overdue'. Never blocking: each beat is a few
// arithmetic operations, and the timer is unref'd.
import { heartbeatFraction } from '../../common/job-stages';
import type { EngineProgress, TimedStage } from './engine-types';

/** Milliseconds between beats. */
export const HEARTBEAT_MS = 1000;

export class ProgressHeartbeat {
  private timed: { stage: string; spec: TimedStage; receivedAt: number } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private last = 0;
  private stopped = false;

  constructor(
    private readonly forward: (p: EngineProgress) => void,
    private readonly intervalMs = HEARTBEAT_MS,
  ) {}

  /** An event from the pipeline: passed on (with its time left), and the beat follows its stage. */
  receive(p: EngineProgress): void {
    if (this.stopped) return;
    if (!p.timedStage) {
      this.stopTimer();
      this.timed = undefined;
      this.last = Math.max(this.last, p.progress);
      const { timedStage: _ignored, ...plain } = p;
      this.forward(plain);
      return;
    }
    this.timed = { stage: p.stage, spec: p.timedStage, receivedAt: performance.now() };
    this.beat(p.progress);
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(0), this.intervalMs);
      this.timer.unref?.();
    }
  }

  /** The request ended: no more beats. */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private beat(floor: number): void {
    const t = this.timed;
    if (!t) return;
    const { spec } = t;
    const elapsed = spec.elapsedMs + (performance.now() - t.receivedAt);
    const fraction = Math.max(spec.done, heartbeatFraction(elapsed, spec.expectedMs));
    const value = Math.max(this.last, floor, spec.from + (spec.to - spec.from) * fraction);
    this.last = value;
    const overdue = elapsed > spec.expectedMs;
    this.forward({
      progress: value,
      stage: t.stage,
      estimate: overdue ? 'overdue' : spec.estimate,
      secondsLeft:
        overdue || spec.estimate !== 'measured' ? null : (spec.expectedMs - elapsed + spec.laterMs) / 1000,
    });
  }
}
