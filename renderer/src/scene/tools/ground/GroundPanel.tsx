interface GroundPanelProps {
  picked: number;
  levelled: boolean;
  busy: boolean;
  onLevel(): void;
  onClearPicks(): void;
  onReset(): void;
}

export function GroundPanel({ picked, levelled, busy, onLevel, onClearPicks, onReset }: GroundPanelProps) {
  return (
    <div className="tool-panel" data-testid="tool-panel-ground">
      <strong>Ground plane</strong>
      <p className="muted">Click three or more points spread over the floor.</p>
      <p data-testid="ground-count">{picked} points picked</p>
      <div className="tool-actions">
        <button
          className="primary"
          disabled={picked < 3 || busy}
          onClick={onLevel}
          title={picked < 3 ? 'Pick at least three floor points' : 'Make the picked floor horizontal'}
          data-testid="ground-level"
        >
          Level scene
        </button>
        <button disabled={picked === 0} onClick={onClearPicks}>
          Clear picks
        </button>
        {levelled && (
          <button
            disabled={busy}
            onClick={onReset}
            title="Show the scene as reconstructed"
            data-testid="ground-reset"
          >
            Reset
          </button>
        )}
      </div>
    </div>
  );
}
