// From per-point quality scores to a keep mask. Every score in the cleanup
// module is "higher is worse" (depth-edge jump, inconsistency, outlier z-score),
// so one rule serves all: threshold mode keeps score <= value; percentile mode
// removes the worst `removePercent` % of the points still kept. NaN means "no
// evidence" and is kept; +Infinity (no usable position) is always removed.

export type ScoreCut =
  | { mode: 'threshold'; value: number }
  | { mode: 'percentile'; /** 0..100: share of the considered points to remove. */ removePercent: number };

/** The score at or below which a point is kept under `cut`, over the points where `within` is set. */
export function scoreCutoff(scores: Float32Array, cut: ScoreCut, within?: Uint8Array | null): number {
  if (cut.mode === 'threshold') return cut.value;
  const percent = Math.min(100, Math.max(0, cut.removePercent));
  let n = 0;
  for (let i = 0; i < scores.length; i++) if ((!within || within[i]) && !Number.isNaN(scores[i])) n++;
  if (n === 0 || percent === 0) return Infinity;
  const values = new Float32Array(n);
  n = 0;
  for (let i = 0; i < scores.length; i++)
    if ((!within || within[i]) && !Number.isNaN(scores[i])) values[n++] = scores[i];
  values.sort();
  const keepCount = Math.round(n * (1 - percent / 100));
  if (keepCount <= 0) return -Infinity;
  return values[keepCount - 1];
}

/**
 * Keep mask (1 = keep) for `scores` under `cut`. With `within`, points outside
 * it stay removed and the percentile is taken over the points inside it.
 * Ties at the percentile cutoff are all kept.
 */
export function keepMaskFromScores(
  scores: Float32Array,
  cut: ScoreCut,
  within?: Uint8Array | null,
): Uint8Array {
  const cutoff = scoreCutoff(scores, cut, within);
  const keep = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    if (within && !within[i]) continue;
    const s = scores[i];
    keep[i] = Number.isNaN(s) || (s <= cutoff && s !== Infinity) ? 1 : 0;
  }
  return keep;
}
