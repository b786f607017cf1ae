import { useState, type MouseEvent } from 'react';
import { blobPaths } from '../../../main/common/api';
import { MARKER_COLORS, type FrameInfo, type Marker, type MarkerColor } from '../../../main/common/domain';
import { useStudio } from '../common/studio-context';
import { framePixelAt, MARKER_CSS, markerPercent, placeMarker, removeMarker } from './marker-coords';

interface MarkerEditorProps {
  frames: FrameInfo[];
  markers: Marker[];
  onChange(markers: Marker[]): void;
  disabled: boolean;
}

/**
 * Coloured points on the scene's frames, drawn the way the model's training data
 * marks objects, so a question can say "the red point". One point per colour.
 */
export function MarkerEditor({ frames, markers, onChange, disabled }: MarkerEditorProps) {
  const { client } = useStudio();
  const [frameIndex, setFrameIndex] = useState(() => frames[0]?.index ?? 0);
  const [color, setColor] = useState<MarkerColor>(
    () => MARKER_COLORS.find((c) => !markers.some((m) => m.color === c)) ?? 'red',
  );
  const frame = frames.find((item) => item.index === frameIndex) ?? frames[0];
  if (!frame) return null;

  const place = (event: MouseEvent<HTMLImageElement>) => {
    if (disabled) return;
    const { x, y } = framePixelAt(
      event.currentTarget.getBoundingClientRect(),
      event.clientX,
      event.clientY,
      frame,
    );
    const next = placeMarker(markers, { color, frameIndex: frame.index, x, y });
    onChange(next);
    // The next click places the next unused colour: red, then blue, …
    const unused = MARKER_COLORS.find((c) => !next.some((m) => m.color === c));
    if (unused) setColor(unused);
  };

  return (
    <div className="qa-marker-editor" data-testid="qa-marker-editor">
      <div className="qa-colors" role="radiogroup" aria-label="Marker colour">
        {MARKER_COLORS.map((c) => (
          <button
            key={c}
            role="radio"
            aria-checked={c === color}
            className={`qa-color${c === color ? ' chosen' : ''}`}
            style={{ background: MARKER_CSS[c] }}
            title={`Place the ${c} point`}
            aria-label={c}
            data-testid={`qa-color-${c}`}
            onClick={() => setColor(c)}
          />
        ))}
        <span className="muted small">Click the frame to place the {color} point.</span>
      </div>
      <div className="qa-frame-stage">
        <div className="qa-frame-box">
          <img
            src={client.blobUrl(blobPaths.frameImage(frame.id))}
            alt={`Frame ${frame.index}`}
            draggable={false}
            data-testid="qa-frame-image"
            data-frame-index={frame.index}
            onClick={place}
          />
          {markers
            .filter((marker) => marker.frameIndex === frame.index)
            .map((marker) => (
              <span
                key={marker.color}
                className="qa-dot"
                style={{ ...markerPercent(marker, frame), background: MARKER_CSS[marker.color] }}
                title={`The ${marker.color} point (${Math.round(marker.x)}, ${Math.round(marker.y)})`}
                data-testid="qa-dot"
                data-color={marker.color}
              />
            ))}
        </div>
      </div>
      <div className="qa-frame-picker" data-testid="qa-frame-picker">
        {frames.map((item) => (
          <button
            key={item.id}
            className={`qa-frame-thumb${item.index === frame.index ? ' active' : ''}`}
            title={`Frame ${item.index}`}
            data-testid="qa-frame-thumb"
            onClick={() => setFrameIndex(item.index)}
          >
            <img
              src={client.blobUrl(blobPaths.frameThumb(item.id))}
              alt={`Frame ${item.index}`}
              loading="lazy"
            />
            <span className="frame-index">{item.index}</span>
            {markers.some((m) => m.frameIndex === item.index) && <span className="qa-thumb-marked" />}
          </button>
        ))}
      </div>
      {markers.length > 0 && (
        <ul className="qa-marker-list" data-testid="qa-marker-list">
          {markers.map((marker) => (
            <li key={marker.color} data-testid="qa-marker" data-color={marker.color}>
              <span className="qa-swatch" style={{ background: MARKER_CSS[marker.color] }} />
              {marker.color} · frame {marker.frameIndex} · ({Math.round(marker.x)}, {Math.round(marker.y)}) px
              <button
                className="small-button"
                disabled={disabled}
                title={`Remove the ${marker.color} point`}
                data-testid="qa-marker-remove"
                onClick={() => {
                  onChange(removeMarker(markers, marker.color));
                  setColor(marker.color); // the next click puts it back elsewhere
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
