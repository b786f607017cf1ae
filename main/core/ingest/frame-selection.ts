// Picks `count` frames out of time-ordered candidates: evenly spread over time,
// the sharpest frame of each time window, skipping frames that repeat the
// previous pick only when that costs little sharpness.
//
// The candidates are cut into `count` consecutive windows of (nearly) equal
// size and one frame is taken from each, so the picks stay spread over the
// whole video. Inside a window the sharpest frame wins. A near-duplicate of the
// previous pick gives way only to a frame of the same window that is at least
// DUPLICATE_SHARPNESS_TRADE of its sharpness and not blurry (blurScore below
// BLURRY_FRACTION of the median of all candidates): a much sharper view of the
// same place is worth more to the model than a blurry different one. A video of
// a static scene therefore still yields `count` frames.

import { NEAR_DUPLICATE_MEAN_DIFF, signatureDifference, type FrameQuality } from './frame-quality';

export const BLURRY_FRACTION = 0.5;
/** A near-duplicate pick is traded for a fresh view no blurrier than this fraction of it. */
export const DUPLICATE_SHARPNESS_TRADE = 0.5;

export function selectFrames(candidates: FrameQuality[], count: number): boolean[] {
  const total = candidates.length;
  if (total <= count) return candidates.map(() => true);
  const scores = candidates.map((c) => c.blurScore).sort((a, b) => a - b);
  const blurryBelow = BLURRY_FRACTION * scores[total >> 1];
  const selected = candidates.map(() => false);
  let previous: FrameQuality | null = null;
  for (let window = 0; window < count; window++) {
    const start = Math.floor((window * total) / count);
    const end = Math.floor(((window + 1) * total) / count);
    const bySharpness = Array.from({ length: end - start }, (_, k) => start + k).sort(
      (a, b) => candidates[b].blurScore - candidates[a].blurScore,
    );
    const sharpest = bySharpness[0];
    let pick = sharpest;
    if (previous !== null && isDuplicate(previous, candidates[sharpest])) {
      const floor = Math.max(blurryBelow, DUPLICATE_SHARPNESS_TRADE * candidates[sharpest].blurScore);
      const fresh = bySharpness.find(
        (i) => candidates[i].blurScore >= floor && !isDuplicate(previous as FrameQuality, candidates[i]),
      );
      if (fresh !== undefined) pick = fresh;
    }
    selected[pick] = true;
    previous = candidates[pick];
  }
  return selected;
}

function isDuplicate(a: FrameQuality, b: FrameQuality): boolean {
  return signatureDifference(a.signature, b.signature) < NEAR_DUPLICATE_MEAN_DIFF;
}

/**
 * Photos: `count` picks, the sharpest of each of `count` equal groups of the
 * (name-ordered) sequence. Photos are taken on purpose, so two alike are not
 * judged duplicates as video frames are.
 */
export function selectSharpestPerGroup(blurScores: readonly number[], count: number): boolean[] {
  const total = blurScores.length;
  if (total <= count) return blurScores.map(() => true);
  const selected = blurScores.map(() => false);
  for (let group = 0; group < count; group++) {
    const start = Math.floor((group * total) / count);
    const end = Math.floor(((group + 1) * total) / count);
    let best = start;
    for (let i = start + 1; i < end; i++) if (blurScores[i] > blurScores[best]) best = i;
    selected[best] = true;
  }
  return selected;
}
