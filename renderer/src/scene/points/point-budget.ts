// How many points to draw while the camera moves. A still view always draws
// everything; a moving one draws the first `budget` points of the shuffled
// buffer, a uniform subsample, so the cloud thins out evenly instead of losing
// regions. The budget adapts to the measured frame interval while moving.
//
// MovingBudget is the controller BudgetedPointCloud runs once per frame. On a
// slow renderer (software WebGL draws ~3 M points/s) two things matter: an
// interval between two frames of one movement is measured however long it is
// (a 600 ms frame is exactly the one that must shrink the budget), and only a
// frame whose view did not change ends a movement. A timer merely asks for
// that frame after a pause, so slow frames of one drag are never mistaken for
// a stop that draws the full cloud.

export interface BudgetOptions {
  /** Budget to start from, in points. */
  initial: number;
  /** Never fewer than this while moving (a thinned cloud must still read as the scene). */
  min: number;
  /** Never more than this while moving. */
  max: number;
  /** Frame interval to aim for while moving, ms. */
  targetFrameMs: number;
  /** false: the budget stays at `initial` (benchmarks, tests). */
  adaptive: boolean;
}

export const DEFAULT_BUDGET: BudgetOptions = {
  initial: 1_000_000,
  min: 100_000,
  max: 8_000_000,
  targetFrameMs: 33,
  adaptive: true,
};

/**
 * The next moving budget after a frame that took `frameMs`: shrink in
 * proportion when too slow (at most halving per frame), grow by a quarter when
 * comfortably fast, otherwise keep. Always within [min, max].
 */
export function nextBudget(current: number, frameMs: number, options: BudgetOptions): number {
  if (!options.adaptive || !(frameMs > 0)) return current;
  let next = current;
  if (frameMs > options.targetFrameMs * 1.2) next = current * Math.max(0.5, options.targetFrameMs / frameMs);
  else if (frameMs < options.targetFrameMs * 0.7) next = current * 1.25;
  return Math.round(Math.min(options.max, Math.max(options.min, next)));
}

/** Points to draw this frame. */
export function drawCount(pointCount: number, moving: boolean, budget: number): number {
  return moving ? Math.min(pointCount, Math.max(0, Math.floor(budget))) : pointCount;
}

/** A pause longer than this is never part of one movement, however slow the frames. */
const MAX_FRAME_GAP_MS = 5_000;
/** A still view ends a movement after this many recent frame intervals (and at least settleMs). */
const SETTLE_FRAMES = 2;

/**
 * The moving/still state and the adaptive budget, fed one frame at a time with
 * its time stamp and whether the view changed. No timers here: the owner asks
 * `timeToSettle` when to render the frame that may end the movement.
 */
export class MovingBudget {
  private budgetPoints: number;
  private isMoving = false;
  private lastMoveAt = -Infinity;
  private lastFrameAt = -Infinity;
  /** The last measured interval between two moving frames, ms (0 until one is measured). */
  private frameMs = 0;

  constructor(
    private options: BudgetOptions,
    /** A still camera for at least this long ends the moving state, ms. */
    readonly settleMs: number,
  ) {
    this.budgetPoints = options.initial;
  }

  get budget(): number {
    return this.budgetPoints;
  }
  get moving(): boolean {
    return this.isMoving;
  }
  /** The last measured moving frame interval, ms (0 before any). */
  get lastFrameMs(): number {
    return this.frameMs;
  }

  /** Adapt from now on or stay fixed (benchmarks compare both on one cloud). */
  setAdaptive(adaptive: boolean): void {
    this.options = { ...this.options, adaptive };
  }

  /** A fixed moving budget (adaptive budgets go on from it). */
  setBudget(points: number): void {
    this.budgetPoints = Math.max(0, Math.floor(points));
  }

  /** How long to wait before asking for a still frame: at least settleMs, and longer than a frame or two. */
  settleDelay(): number {
    return Math.max(this.settleMs, SETTLE_FRAMES * this.frameMs);
  }

  /**
   * One frame at `now` (ms); `moved`: the view differs from the last frame's.
   * Returns how many of `pointCount` points to draw.
   */
  frame(now: number, moved: boolean, pointCount: number): number {
    if (moved) {
      const interval = now - this.lastFrameAt;
      // Only an interval between two frames of one movement measures the renderer.
      if (this.isMoving && interval > 0 && interval < MAX_FRAME_GAP_MS) {
        this.frameMs = interval;
        const drawn = Math.min(this.budgetPoints, pointCount);
        // A budget above the cloud only adapts when even the whole cloud is too slow.
        if (drawn < this.budgetPoints ? interval > this.options.targetFrameMs * 1.2 : true) {
          this.budgetPoints = nextBudget(drawn, interval, this.options);
        }
      }
      this.isMoving = true;
      this.lastMoveAt = now;
    } else if (this.isMoving && now - this.lastMoveAt >= this.settleMs) {
      // A frame with an unchanged view after settleMs is still, whoever asked for it; the
      // settle timer itself waits settleDelay, so slow frames of one drag do not ask for one.
      this.isMoving = false;
    }
    this.lastFrameAt = now;
    return drawCount(pointCount, this.isMoving, this.budgetPoints);
  }

  /** ms until the owner should ask for the frame that may end the movement (0: now, or none is moving). */
  timeToSettle(now: number): number {
    return this.isMoving ? Math.max(0, this.lastMoveAt + this.settleDelay() - now) : 0;
  }

  /** Forget the movement: the next frame counts as the first of a still view. */
  reset(): void {
    this.isMoving = false;
    this.lastFrameAt = -Infinity;
  }
}
