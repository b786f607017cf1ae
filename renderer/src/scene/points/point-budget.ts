// How many points to draw while the camera moves. A still view always draws
// everything; a moving one draws the first `budget` points of the shuffled
// buffer, a uniform subsample, so the cloud thins out evenly instead of losing
// regions. The budget adapts to the measured frame interval while moving.

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
  initial: 2_000_000,
  min: 250_000,
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
