import { useEffect, useRef, useState } from 'react';
import type { ModelInfo } from '../../../main/common/domain';
import type { StudioError } from '../../../main/common/errors';
import { asStudioError } from '../api/client';
import { useStudio } from '../common/studio-context';

/**
 * The installed models and registering a converted one. Converting a checkpoint
 * is a CLI step (`g2studio model convert`): it reads gigabytes and is best run
 * once, not from a dialog.
 */
export function ModelsDialog({ onClose }: { onClose(): void }) {
  const { client, modelsChanged } = useStudio();
  const dialog = useRef<HTMLDialogElement>(null);
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<StudioError | null>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  useEffect(() => {
    client.call('models.list', {}).then(setModels, (cause: unknown) => setError(asStudioError(cause)));
  }, [client]);

  const register = async () => {
    setBusy(true);
    setError(null);
    try {
      const model = await client.call('models.register', { path: path.trim() });
      setModels((list) => [...(list ?? []).map((item) => ({ ...item, active: false })), model]);
      setPath('');
      modelsChanged();
    } catch (cause) {
      setError(asStudioError(cause));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="confirm-dialog models-dialog"
      data-testid="models-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2>Models</h2>
      {models && models.length === 0 && <p>No model is registered yet.</p>}
      <ul className="model-list">
        {models?.map((model) => (
          <li key={model.id} data-testid="model-row">
            <strong>{model.name}</strong>{' '}
            {model.active && <span className="status-chip status-succeeded">active</span>}
            <div className="muted small">
              {model.precision} · {model.capabilities.reconstruct ? 'reconstruct' : ''}
              {model.capabilities.chat ? ' · chat' : ''} · {model.path}
            </div>
          </li>
        ))}
      </ul>
      <form
        className="register-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (path.trim()) void register();
        }}
      >
        <label htmlFor="model-path">Converted model folder</label>
        <p className="muted small">
          Convert the official checkpoint once with{' '}
          <code>g2studio model convert &lt;checkpoint&gt; --out &lt;folder&gt;</code>, then register that
          folder here.
        </p>
        <div className="register-row">
          <input
            id="model-path"
            value={path}
            placeholder="/path/to/g2vlm-converted"
            onChange={(event) => setPath(event.target.value)}
            data-testid="model-path"
          />
          <button
            className="primary"
            type="submit"
            disabled={busy || !path.trim()}
            data-testid="model-register"
          >
            {busy ? 'Registering…' : 'Register'}
          </button>
        </div>
        {error && (
          <div className="job-error" role="alert" data-testid="model-error">
            <strong>{error.message}</strong>
            {error.fix && <span>{error.fix}</span>}
          </div>
        )}
      </form>
      <div className="dialog-actions">
        <button onClick={onClose} data-testid="models-close">
          Close
        </button>
      </div>
    </dialog>
  );
}
