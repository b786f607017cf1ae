// The quality filter: pick a score, cut by threshold or "remove the worst N %",
// watch the viewer preview the result while the slider moves, then Apply (one
// filter edit on the stack) or Cancel (the preview goes, nothing is stored).

import { useEffect, useMemo, useState } from 'react';
import type { QualityScoreName } from '../../../../main/common/edit-stack';
import type { ScoreCut } from '../../../../main/common/score-mask';
import { formatNumber, SCORE_HINTS, SCORE_LABELS } from './edit-labels';
import { positionOfThreshold, previewKeep, thresholdAtPosition } from './score-preview';
import type { SceneEdits } from './use-scene-edits';
import { useScoreTable } from './use-score-table';

const DEFAULT_REMOVE_PERCENT = 5;
/** Slider steps of the threshold mode (positions along the score distribution). */
const THRESHOLD_STEPS = 1000;

interface FilterControlsProps {
  sceneId: string;
  edits: SceneEdits;
  /** The keep mask the filter would leave while the user adjusts it, null when not previewing. */
  onPreview(keep: Uint8Array | null): void;
}

export function FilterControls({ sceneId, edits, onPreview }: FilterControlsProps) {
  const { state } = edits;
  // Map-based scores belong to the reconstruction's points; a voxel cloud has only the outlier score.
  const available = (state?.availableScores ?? []).filter(
    (name) => state?.cloud !== 'voxel' || name === 'outlier',
  );
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<QualityScoreName | null>(null);
  const score = chosen && available.includes(chosen) ? chosen : (available[0] ?? null);
  const [mode, setMode] = useState<ScoreCut['mode']>('percentile');
  const [removePercent, setRemovePercent] = useState(DEFAULT_REMOVE_PERCENT);
  const [position, setPosition] = useState(1 - DEFAULT_REMOVE_PERCENT / 100);
  const [previewing, setPreviewing] = useState(false);

  const loaded = useScoreTable(sceneId, open ? score : null, edits.keep, edits.keepRevision);
  const table = loaded.status === 'ready' ? loaded.table : null;
  // The cut as plain values, so the preview is recomputed only when the cut changes.
  const cutValue =
    mode === 'percentile' ? removePercent : table ? thresholdAtPosition(table, position) : null;
  const cut = useMemo<ScoreCut | null>(
    () =>
      cutValue === null
        ? null
        : mode === 'percentile'
          ? { mode, removePercent: cutValue }
          : { mode, value: cutValue },
    [mode, cutValue],
  );
  const preview = useMemo(() => (table && cut ? previewKeep(table, cut) : null), [table, cut]);
  const showing = open && previewing ? (preview?.keep ?? null) : null;
  useEffect(() => onPreview(showing), [onPreview, showing]);
  useEffect(() => () => onPreview(null), [onPreview]);

  const kept = state?.keptCount ?? 0;
  const reason = !state
    ? 'Loading the edit stack…'
    : available.length === 0
      ? 'No quality score is available for this cloud.'
      : edits.busy
        ? 'An edit is being applied…'
        : loaded.status === 'loading'
          ? state.availableScores.includes('outlier') && score === 'outlier'
            ? 'Computing outlier scores…'
            : 'Loading scores…'
          : null;

  const apply = async () => {
    if (!score || !cut) return;
    if (await edits.push({ kind: 'filter', params: { score, cut } })) setPreviewing(false);
  };

  return (
    <details
      className="edit-section"
      data-testid="filter-section"
      open={open}
      onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>Quality filter</summary>
      {available.length === 0 ? (
        <p className="edit-note">No quality score is available for this cloud.</p>
      ) : (
        <div className="edit-form">
          <label>
            Score
            <select
              value={score ?? ''}
              data-testid="filter-score"
              onChange={(event) => {
                setChosen(event.target.value as QualityScoreName);
                setPreviewing(true);
              }}
            >
              {available.map((name) => (
                <option key={name} value={name}>
                  {SCORE_LABELS[name]}
                </option>
              ))}
            </select>
          </label>
          {score && <p className="edit-note">{SCORE_HINTS[score]}</p>}
          <div className="edit-modes" role="radiogroup" aria-label="Filter mode">
            {(['percentile', 'threshold'] as const).map((item) => (
              <label key={item}>
                <input
                  type="radio"
                  name="filter-mode"
                  value={item}
                  checked={mode === item}
                  data-testid={`filter-mode-${item}`}
                  onChange={() => {
                    // Keep the same cut when switching: the share removed maps to a position and back.
                    if (table && item === 'threshold') setPosition(1 - removePercent / 100);
                    if (table && item === 'percentile' && cut?.mode === 'threshold') {
                      const share = positionOfThreshold(table, cut.value);
                      setRemovePercent(Math.round((1 - share) * 1000) / 10);
                    }
                    setMode(item);
                    setPreviewing(true);
                  }}
                />
                {item === 'percentile' ? 'Remove worst %' : 'Threshold'}
              </label>
            ))}
          </div>
          {mode === 'percentile' ? (
            <label className="edit-slider">
              <input
                type="range"
                min={0}
                max={50}
                step={0.1}
                value={removePercent}
                data-testid="filter-slider"
                onChange={(event) => {
                  setRemovePercent(Number(event.target.value));
                  setPreviewing(true);
                }}
              />
              <span data-testid="filter-value">{formatNumber(removePercent)} %</span>
            </label>
          ) : (
            <label className="edit-slider">
              <input
                type="range"
                min={0}
                max={THRESHOLD_STEPS}
                step={1}
                value={Math.round(position * THRESHOLD_STEPS)}
                disabled={!table}
                data-testid="filter-slider"
                onChange={(event) => {
                  setPosition(Number(event.target.value) / THRESHOLD_STEPS);
                  setPreviewing(true);
                }}
              />
              <span data-testid="filter-value">
                {cut?.mode === 'threshold' ? `≤ ${formatNumber(cut.value)}` : '…'}
              </span>
            </label>
          )}
          <p className="edit-note" data-testid="filter-preview-count">
            {reason ??
              (preview && previewing
                ? `Keeps ${preview.keptCount.toLocaleString()} of ${kept.toLocaleString()} points (removes ${(kept - preview.keptCount).toLocaleString()}).`
                : 'Move the slider to preview.')}
          </p>
          <div className="edit-actions">
            <button
              className="primary"
              disabled={reason !== null || !previewing || !cut}
              onClick={() => void apply()}
              data-testid="filter-apply"
            >
              Apply
            </button>
            <button disabled={!previewing} onClick={() => setPreviewing(false)} data-testid="filter-cancel">
              Cancel
            </button>
          </div>
        </div>
      )}
    </details>
  );
}
