import { useState } from 'react';
import type { FrameUsage } from '../../../main/common/frame-usage';

/** The most frames the automatic selection picks (api.ts: scenes.reselectFrames). */
const MAX_RESELECT = 512;

interface FrameSelectionBarProps {
  frameCount: number;
  usage: FrameUsage;
  hasReconstruction: boolean;
  /** Why the selection cannot change now (a reconstruction holds it), or null. */
  lockedReason: string | null;
  pending: boolean;
  onReselect(count: number): void;
}

/** The automatic selection with a count, and whether the 3D is out of date with the selection. */
export function FrameSelectionBar({
  frameCount,
  usage,
  hasReconstruction,
  lockedReason,
  pending,
  onReselect,
}: FrameSelectionBarProps) {
  const max = Math.min(MAX_RESELECT, frameCount);
  const suggested = String(Math.min(max, Math.max(2, usage.selectedCount)));
  // What the user typed, for the selection it was typed against: when the
  // selection changes (a re-select, another window, the CLI) the field follows it.
  const [draft, setDraft] = useState<{ text: string; against: number } | null>(null);
  const count = draft && draft.against === usage.selectedCount ? draft.text : suggested;
  const wanted = Number(count);
  const valid = Number.isInteger(wanted) && wanted >= 2 && wanted <= max;
  const reselectReason =
    lockedReason ??
    (frameCount < 2
      ? 'The scene has fewer than two frames.'
      : !valid
        ? `Enter a whole number of frames from 2 to ${max}.`
        : null);
  return (
    <div className="frame-selection-bar" data-testid="frame-selection-bar">
      <form
        className="frame-reselect"
        onSubmit={(event) => {
          event.preventDefault();
          if (reselectReason === null && !pending) onReselect(wanted);
        }}
      >
        <label title="How many frames the automatic selection picks">
          Auto-select
          <input
            type="number"
            min={2}
            max={max}
            step={1}
            value={count}
            aria-invalid={!valid}
            data-testid="reselect-count"
            onChange={(event) => setDraft({ text: event.target.value, against: usage.selectedCount })}
          />
        </label>
        <button
          type="submit"
          disabled={reselectReason !== null || pending}
          title={
            reselectReason ??
            `Select ${wanted} frames again automatically: the sharpest of each stretch of time, skipping near-duplicates`
          }
          data-testid="reselect-button"
        >
          Re-select
        </button>
      </form>
      {lockedReason && <span className="frame-selection-note">{lockedReason}</span>}
      {!lockedReason && usage.selectedCount < 2 && (
        <span className="frame-selection-note warn" data-testid="selection-too-small">
          Select at least two frames to reconstruct.
        </span>
      )}
      {!lockedReason && usage.outOfDate && (
        <span className="frame-selection-note warn" data-testid="selection-out-of-date" role="status">
          The 3D was made from {usage.used.size} frames; the selection has changed since ({usage.added} added,{' '}
          {usage.removed} removed). Reconstruct again to use it.
        </span>
      )}
      {!lockedReason && hasReconstruction && !usage.outOfDate && usage.used.size > 0 && (
        <span className="frame-selection-note" data-testid="selection-up-to-date">
          The 3D was made from the selected frames.
        </span>
      )}
    </div>
  );
}
