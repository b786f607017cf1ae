// The viewer's live filter preview must keep exactly the points the core's
// filter keeps (score-mask.ts) for the same cut, including NaN (no evidence),
// +Infinity (no position), ties and points outside the current keep mask.

import { describe, expect, it } from 'vitest';
import { keepMaskFromScores, type ScoreCut } from '../../../../main/common/score-mask';
import {
  buildScoreTable,
  positionOfThreshold,
  previewKeep,
  thresholdAtPosition,
} from '../../../../renderer/src/scene/editing/score-preview';

function randomScores(n: number, seed: number): { scores: Float32Array; within: Uint8Array } {
  let state = seed;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const scores = new Float32Array(n);
  const within = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    // Heavy tail, ties (rounded values), missing and unusable points.
    scores[i] = r < 0.05 ? NaN : r < 0.08 ? Infinity : Math.round(-Math.log(next()) * 20) / 10;
    within[i] = next() < 0.9 ? 1 : 0;
  }
  return { scores, within };
}

describe('filter preview', () => {
  const { scores, within } = randomScores(20_000, 7);
  const table = buildScoreTable(scores, within);

  const cuts: ScoreCut[] = [
    { mode: 'percentile', removePercent: 0 },
    { mode: 'percentile', removePercent: 0.5 },
    { mode: 'percentile', removePercent: 5 },
    { mode: 'percentile', removePercent: 33.3 },
    { mode: 'percentile', removePercent: 100 },
    { mode: 'threshold', value: 0 },
    { mode: 'threshold', value: 1.5 },
    { mode: 'threshold', value: thresholdAtPosition(table, 0.9) },
    { mode: 'threshold', value: -1 },
  ];
  it.each(cuts)('keeps what the core keeps for %o', (cut) => {
    const expected = keepMaskFromScores(scores, cut, within);
    const { keep, keptCount } = previewKeep(table, cut);
    expect(Buffer.from(keep).equals(Buffer.from(expected))).toBe(true);
    expect(keptCount).toBe(expected.reduce((sum, v) => sum + v, 0));
  });

  it('maps threshold slider positions along the distribution and back', () => {
    const low = thresholdAtPosition(table, 0.1);
    const high = thresholdAtPosition(table, 0.9);
    expect(low).toBeLessThan(high);
    expect(Number.isFinite(thresholdAtPosition(table, 1))).toBe(true);
    for (const position of [0.1, 0.5, 0.9]) {
      const value = thresholdAtPosition(table, position);
      // Ties make the inverse land on the last position with the same value, never before.
      expect(positionOfThreshold(table, value)).toBeGreaterThanOrEqual(position - 1e-9);
      expect(thresholdAtPosition(table, positionOfThreshold(table, value))).toBe(value);
    }
  });
});
