import type { CropBox } from './crop-box';

interface CropPanelProps {
  box: CropBox | null;
  /** Points the box keeps of those shown now. */
  keptPreview: number | null;
  shownCount: number | null;
  busy: boolean;
  onApply(): void;
  onReset(): void;
  onCancel(): void;
}

export function CropPanel({
  box,
  keptPreview,
  shownCount,
  busy,
  onApply,
  onReset,
  onCancel,
}: CropPanelProps) {
  return (
    <div className="tool-panel" data-testid="tool-panel-crop">
      <strong>Crop</strong>
      <p className="muted">Drag the magenta handles to move the box's faces; points outside are hidden.</p>
      {keptPreview !== null && shownCount !== null && (
        <p data-testid="crop-preview">
          Keeps {keptPreview.toLocaleString()} of {shownCount.toLocaleString()} points
        </p>
      )}
      <div className="tool-actions">
        <button className="primary" disabled={!box || busy} onClick={onApply} data-testid="crop-apply">
          Apply
        </button>
        <button disabled={!box} onClick={onReset} title="Back to the cloud's bounds">
          Reset box
        </button>
        <button onClick={onCancel} data-testid="crop-cancel">
          Cancel
        </button>
      </div>
    </div>
  );
}
