import type { CropBox } from './crop-box';

interface CropPanelProps {
  box: CropBox | null;
  /** Points the box keeps of those shown now. */
  keptPreview: number | null;
  shownCount: number | null;
  busy: boolean;
  /** Sizes are typed in metres once the scene has a scale, in scene units before. */
  metresPerUnit: number | null;
  /** A typed size for one axis, scene units (the box keeps its centre). */
  onResize(axis: 0 | 1 | 2, size: number): void;
  onApply(): void;
  onReset(): void;
  onCancel(): void;
}

const AXES = [
  { axis: 0, name: 'x' },
  { axis: 1, name: 'y' },
  { axis: 2, name: 'z' },
] as const;

const shown = (value: number) => Number(value.toPrecision(4));

export function CropPanel({
  box,
  keptPreview,
  shownCount,
  busy,
  metresPerUnit,
  onResize,
  onApply,
  onReset,
  onCancel,
}: CropPanelProps) {
  const scale = metresPerUnit ?? 1;
  const unit = metresPerUnit ? 'm' : 'units';
  return (
    <div className="tool-panel" data-testid="tool-panel-crop">
      <strong>Crop</strong>
      <p className="muted">
        Drag the magenta handles to move the box's faces, or type its size; points outside are hidden.
      </p>
      {box && (
        <div className="crop-size" data-testid="crop-size">
          {AXES.map(({ axis, name }) => {
            const size = shown((box.max[axis] - box.min[axis]) * scale);
            const commit = (text: string) => {
              const value = Number(text);
              if (text.trim() !== '' && Number.isFinite(value) && value > 0 && value !== size)
                onResize(axis, value / scale);
            };
            return (
              <label key={name} title={`The box's size along ${name} (${unit}), about its centre`}>
                {name}
                <input
                  // Re-created when a drag changes the size: the field shows the box, typing edits a draft.
                  key={size}
                  type="number"
                  min={0}
                  step="any"
                  defaultValue={size}
                  data-testid={`crop-size-${name}`}
                  onBlur={(event) => commit(event.target.value)}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter') commit(event.currentTarget.value);
                  }}
                />
              </label>
            );
          })}
          <span className="muted">{unit}</span>
        </div>
      )}
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
