import { useState } from 'react';
import type { ModelInfo } from '../../../main/common/domain';
import { ConfirmDialog } from '../common/ConfirmDialog';

function capabilities(model: ModelInfo): string {
  const can = [model.capabilities.reconstruct && 'reconstruct', model.capabilities.chat && 'chat'];
  const said = can.filter(Boolean).join(' · ') || 'no capabilities';
  // Say why chat is missing: the fix (import again with a tokenizer) is one step away.
  return model.capabilities.chat ? said : `${said} (chat unavailable: no tokenizer — import again with one)`;
}

/** The installed models, the active one marked, each with Use and Remove (confirmed). */
export function InstalledModels({
  models,
  busy,
  onUse,
  onRemove,
}: {
  models: ModelInfo[] | null;
  busy: boolean;
  onUse(model: ModelInfo): void;
  onRemove(model: ModelInfo): void;
}) {
  const [confirming, setConfirming] = useState<ModelInfo | null>(null);
  return (
    <section className="models-section">
      <h3>Installed</h3>
      {models && models.length === 0 && (
        <p className="muted small" data-testid="models-empty">
          No model is installed yet: download the official one below, or import a checkpoint folder.
        </p>
      )}
      <ul className="model-list">
        {models?.map((model) => (
          <li key={model.id} data-testid="model-row" data-model-id={model.id} data-active={model.active}>
            <div className="model-row-head">
              <strong>{model.name}</strong>
              {model.active && (
                <span className="status-chip status-succeeded" data-testid="model-active">
                  active
                </span>
              )}
              <span className="spacer" />
              {!model.active && (
                <button
                  className="small-button"
                  disabled={busy}
                  onClick={() => onUse(model)}
                  data-testid="model-use"
                >
                  Use
                </button>
              )}
              <button
                className="small-button"
                disabled={busy}
                onClick={() => setConfirming(model)}
                data-testid="model-remove"
              >
                Remove
              </button>
            </div>
            <div className="muted small">
              <span data-testid="model-precision">{model.precision}</span> · {capabilities(model)} ·{' '}
              <span className="model-path">{model.path}</span>
            </div>
          </li>
        ))}
      </ul>
      {confirming && (
        <ConfirmDialog
          title={`Remove ${confirming.name}?`}
          body={`The model is unregistered and its converted files in the library are deleted${
            confirming.active ? '; another installed model becomes active' : ''
          }. Scenes keep their reconstructions.`}
          confirmLabel="Remove"
          onCancel={() => setConfirming(null)}
          onConfirm={() => {
            onRemove(confirming);
            setConfirming(null);
          }}
        />
      )}
    </section>
  );
}
