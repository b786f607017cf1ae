// The edit stack as a list: applied edits in order, then the undone ones
// (greyed) that Redo brings back, with Undo/Redo buttons and their shortcuts.

import type { SceneEditState } from '../../../../main/common/domain';
import { editLabel } from './edit-labels';
import type { SceneEdits } from './use-scene-edits';

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const UNDO_KEYS = IS_MAC ? '⌘Z' : 'Ctrl+Z';
const REDO_KEYS = IS_MAC ? '⇧⌘Z' : 'Ctrl+Shift+Z or Ctrl+Y';

export function EditHistory({ edits, metresPerUnit }: { edits: SceneEdits; metresPerUnit: number | null }) {
  const state: SceneEditState | null = edits.state;
  const applied = state?.edits ?? [];
  const undone = state?.redo ?? [];
  return (
    <section className="edit-section edit-history" data-testid="edit-history">
      <div className="edit-history-header">
        <strong>History</strong>
        <div className="spacer" />
        <button
          disabled={!state || applied.length === 0 || edits.busy}
          onClick={() => void edits.undo()}
          title={`Undo (${UNDO_KEYS})`}
          data-testid="undo-button"
        >
          Undo
        </button>
        <button
          disabled={!state || undone.length === 0 || edits.busy}
          onClick={() => void edits.redo()}
          title={`Redo (${REDO_KEYS})`}
          data-testid="redo-button"
        >
          Redo
        </button>
      </div>
      {applied.length === 0 && undone.length === 0 ? (
        <p className="edit-note">
          No edits yet: the stored points are never changed, every edit can be undone.
        </p>
      ) : (
        <ol className="edit-list">
          {applied.map((stored) => (
            <li key={stored.id} data-testid="edit-entry" data-kind={stored.edit.kind}>
              {editLabel(stored.edit, metresPerUnit)}
            </li>
          ))}
          {undone.map((stored) => (
            <li key={stored.id} className="undone" data-testid="edit-undone" data-kind={stored.edit.kind}>
              {editLabel(stored.edit, metresPerUnit)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
