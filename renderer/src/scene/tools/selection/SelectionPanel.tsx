interface SelectionPanelProps {
  lasso: boolean;
  parts: number;
  selectedCount: number;
  busy: boolean;
  onDelete(): void;
  onKeep(): void;
  onClear(): void;
}

export function SelectionPanel({
  lasso,
  parts,
  selectedCount,
  busy,
  onDelete,
  onKeep,
  onClear,
}: SelectionPanelProps) {
  return (
    <div className="tool-panel" data-testid="tool-panel-select">
      <strong>{lasso ? 'Lasso selection' : 'Rectangle selection'}</strong>
      <p className="muted">
        {lasso ? 'Draw an outline around points' : 'Drag a rectangle over points'}; Shift adds to the
        selection.
      </p>
      <p data-testid="selection-count">{selectedCount.toLocaleString()} points selected</p>
      <div className="tool-actions">
        <button
          className="danger"
          disabled={parts === 0 || busy}
          onClick={onDelete}
          title="Remove the selected points (Delete)"
          data-testid="selection-delete"
        >
          Delete
        </button>
        <button
          disabled={parts === 0 || busy}
          onClick={onKeep}
          title="Keep only the selected points"
          data-testid="selection-keep"
        >
          Keep
        </button>
        <button disabled={parts === 0} onClick={onClear}>
          Clear
        </button>
      </div>
    </div>
  );
}
