// Picks `count` frames out of time-ordered candidates: evenly spread over time,
// skipping blurry frames and frames that repeat the previous pick.
//
// The candidates are cut into `count` consecutive groups of (nearly) equal size
// and one frame is taken from each group, so the picks stay spread over the
// whole video. Inside a group the sharpest frame wins, but a frame that is blurry
// (blurScore below BLURRY_FRACTION of the median of all candidates) or a
// near-duplicate of the previous pick only wins when the group has nothing else.
// A video of a static scene therefore still yields `count` frames.

import { NEAR_DUPLICATE_MEAN_DIFF, signatureDifference, type FrameQuality } from './frame-quality';

export const BLURRY_FRACTION = 0.5;

export function selectFrames(candidates: FrameQuality[], count: number): boolean[] {
  const total = candidates.length;
  if (total <= count) return candidates.map(() => true);
  const scores = candidates.map((c) => c.blurScore).sort((a, b) => a - b);
  const blurryBelow = BLURRY_FRACTION * scores[total >> 1];
  const selected = candidates.map(() => false);
  let previous: FrameQuality | null = null;
  for (let group = 0; group < count; group++) {
    const start = Math.floor((group * total) / count);
    const end = Math.floor(((group + 1) * total) / count);
    let best = -1;
    let bestRank = -Infinity;
    for (let i = start; i < end; i++) {
      const candidate = candidates[i];
      const blurry = candidate.blurScore < blurryBelow;
      const duplicate =
        previous !== null &&
        signatureDifference(previous.signature, candidate.signature) < NEAR_DUPLICATE_MEAN_DIFF;
      // Usable frames outrank flawed ones; then sharpness decides.
      const rank = (blurry ? 0 : 2) + (duplicate ? 0 : 1) + candidate.blurScore / (candidate.blurScore + 1);
      if (rank > bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    selected[best] = true;
    previous = candidates[best];
  }
  return selected;
}
