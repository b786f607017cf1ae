import { useState } from 'react';
import { formatNumber, type ShownDistance } from './distance-label';

interface MeasurePanelProps {
  picked: number;
  distance: ShownDistance | null;
  metresPerUnit: number | null;
  busy: boolean;
  onSetScale(metres: number): void;
  onClearScale(): void;
}

export function MeasurePanel({
  picked,
  distance,
  metresPerUnit,
  busy,
  onSetScale,
  onClearScale,
}: MeasurePanelProps) {
  const [editing, setEditing] = useState(false);
  const [metres, setMetres] = useState('');
  const value = Number(metres);
  const valid = metres.trim() !== '' && Number.isFinite(value) && value > 0;
  return (
    <div className="tool-panel" data-testid="tool-panel-measure">
      <strong>Measure</strong>
      {distance ? (
        <p data-testid="measure-distance" data-value={distance.value} data-unit={distance.unit}>
          Distance: {distance.text}
        </p>
      ) : (
        <p className="muted">Click {picked === 0 ? 'two points' : 'a second point'} on the cloud.</p>
      )}
      {distance && !editing && (
        <button onClick={() => setEditing(true)} data-testid="measure-set-scale">
          Set scale…
        </button>
      )}
      {distance && editing && (
        <form
          className="tool-actions"
          onSubmit={(event) => {
            event.preventDefault();
            if (!valid) return;
            onSetScale(value);
            setEditing(false);
            setMetres('');
          }}
        >
          <label>
            Real distance{' '}
            <input
              type="number"
              min={0}
              step="any"
              value={metres}
              autoFocus
              onChange={(event) => setMetres(event.target.value)}
              data-testid="scale-metres"
            />{' '}
            m
          </label>
          <button className="primary" type="submit" disabled={!valid || busy} data-testid="scale-apply">
            Apply
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      )}
      <p className="muted" data-testid="scene-scale" data-metres-per-unit={metresPerUnit ?? ''}>
        {metresPerUnit
          ? `Scale: 1 unit = ${formatNumber(metresPerUnit)} m`
          : 'No scale yet: distances are in model units.'}
      </p>
      {metresPerUnit !== null && (
        <button disabled={busy} onClick={onClearScale} data-testid="scale-clear">
          Clear scale
        </button>
      )}
    </div>
  );
}
