import type { GeometricEvidence, QaEntry } from '../../../main/common/domain';
import { MARKER_CSS } from './marker-coords';

/** A value the reconstruction gives, with a precision that suits its size. */
export function formatEvidence(evidence: GeometricEvidence): string {
  const { value } = evidence;
  const digits = Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 3 : 4;
  return `${value.toFixed(digits)} ${evidence.unit === 'metres' ? 'm' : 'model units'}`;
}

function totalSeconds(timingsMs: Record<string, number>): number | null {
  const total = timingsMs.total ?? Object.values(timingsMs).reduce((sum, ms) => sum + ms, 0);
  return Number.isFinite(total) && total > 0 ? total / 1000 : null;
}

/** The values computed from the reconstruction, kept apart from what the model said. */
export function EvidenceList({ evidence }: { evidence: GeometricEvidence[] }) {
  if (evidence.length === 0) return null;
  return (
    <div className="qa-evidence" data-testid="qa-evidence">
      <div className="qa-evidence-title">Computed from the reconstruction</div>
      <ul>
        {evidence.map((item) => (
          <li key={item.label} data-testid="qa-evidence-item" data-value={item.value} data-unit={item.unit}>
            <span>{item.label}</span>
            <strong>{formatEvidence(item)}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

interface QaEntryViewProps {
  entry: QaEntry;
  /** Put this entry's points and question back in the editor, to ask again or change them. */
  onReuse(entry: QaEntry): void;
}

export function QaEntryView({ entry, onReuse }: QaEntryViewProps) {
  const seconds = totalSeconds(entry.timingsMs);
  return (
    <li className="qa-entry" data-testid="qa-entry" data-qa-id={entry.id}>
      <div className="qa-question" data-testid="qa-entry-question">
        {entry.markers.map((marker) => (
          <span
            key={marker.color}
            className="qa-swatch"
            style={{ background: MARKER_CSS[marker.color] }}
            title={`The ${marker.color} point: frame ${marker.frameIndex} at (${Math.round(marker.x)}, ${Math.round(marker.y)}) px`}
            data-testid="qa-entry-marker"
            data-color={marker.color}
          />
        ))}
        {entry.question}
      </div>
      {entry.markers.length > 0 && (
        <div className="qa-entry-points muted small" data-testid="qa-entry-points">
          {entry.markers
            .map((m) => `${m.color}: frame ${m.frameIndex} (${Math.round(m.x)}, ${Math.round(m.y)})`)
            .join(' · ')}
        </div>
      )}
      <div className="qa-answer-label">Model's answer</div>
      <div className="qa-answer" data-testid="qa-entry-answer">
        {entry.answer || <span className="muted">(empty answer)</span>}
      </div>
      <EvidenceList evidence={entry.evidence} />
      <div className="qa-meta muted small" data-testid="qa-entry-meta">
        {entry.modelId} · {entry.precision} · {entry.executionProvider}
        {seconds !== null && ` · ${seconds.toFixed(1)} s`} · {new Date(entry.createdAt).toLocaleString()}
        <button
          className="small-button"
          title="Put this question and its points back in the editor"
          data-testid="qa-entry-reuse"
          onClick={() => onReuse(entry)}
        >
          Ask again
        </button>
      </div>
    </li>
  );
}
