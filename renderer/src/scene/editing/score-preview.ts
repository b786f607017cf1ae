// The live quality-filter preview: the same cut the core applies when the
// filter is pushed (score-mask.ts, over the points still kept), but with the
// kept scores sorted once per score table so that each slider step is a lookup
// and one pass over the points, not a sort of a million values.

import type { ScoreCut } from '../../../../main/common/score-mask';
import { sortFloat32 } from '../../../../main/common/sort-float32';

export interface ScoreTable {
  /** One score per point of the edited cloud, higher is worse. */
  scores: Float32Array;
  /** The edit stack's keep mask the table was built over. */
  within: Uint8Array;
  /** Scores of the kept points that have one (no NaN), ascending; +Infinity last. */
  sorted: Float32Array;
  /** How many of `sorted` are finite (the range a threshold slider covers). */
  finiteCount: number;
}

export function buildScoreTable(scores: Float32Array, within: Uint8Array): ScoreTable {
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (within[i] && !Number.isNaN(scores[i])) n++;
  const kept = new Float32Array(n);
  n = 0;
  for (let i = 0; i < scores.length; i++) if (within[i] && !Number.isNaN(scores[i])) kept[n++] = scores[i];
  // Linear-time sort: this runs on the UI thread when the filter opens.
  const sorted = sortFloat32(kept);
  let finiteCount = sorted.length;
  while (finiteCount > 0 && !Number.isFinite(sorted[finiteCount - 1])) finiteCount--;
  return { scores, within, sorted, finiteCount };
}

/** The score at or below which a point stays; equals score-mask.ts scoreCutoff over the same points. */
export function previewCutoff(table: ScoreTable, cut: ScoreCut): number {
  if (cut.mode === 'threshold') return cut.value;
  const percent = Math.min(100, Math.max(0, cut.removePercent));
  const n = table.sorted.length;
  if (n === 0 || percent === 0) return Infinity;
  const keepCount = Math.round(n * (1 - percent / 100));
  if (keepCount <= 0) return -Infinity;
  return table.sorted[keepCount - 1];
}

export interface ScorePreview {
  keep: Uint8Array;
  keptCount: number;
}

/** The keep mask the filter would leave (as keepMaskFromScores with `within`). */
export function previewKeep(table: ScoreTable, cut: ScoreCut): ScorePreview {
  const cutoff = previewCutoff(table, cut);
  const { scores, within } = table;
  const keep = new Uint8Array(scores.length);
  let keptCount = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!within[i]) continue;
    const s = scores[i];
    if (Number.isNaN(s) || (s <= cutoff && s !== Infinity)) {
      keep[i] = 1;
      keptCount++;
    }
  }
  return { keep, keptCount };
}

/**
 * Threshold slider position (0..1) to a score value: positions follow the
 * distribution of the kept scores, so a heavy tail does not squeeze the useful
 * range into the first pixel of the slider.
 */
export function thresholdAtPosition(table: ScoreTable, position: number): number {
  if (table.finiteCount === 0) return 0;
  const at = Math.round(Math.min(1, Math.max(0, position)) * (table.finiteCount - 1));
  return table.sorted[at];
}

/** The share (0..1) of the kept finite scores at or below `value`; the inverse of thresholdAtPosition. */
export function positionOfThreshold(table: ScoreTable, value: number): number {
  if (table.finiteCount <= 1) return 1;
  let lo = 0;
  let hi = table.finiteCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table.sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(1, Math.max(0, (lo - 1) / (table.finiteCount - 1)));
}
