import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobInfo, ModelInfo, ModelRuntimeInfo, PrecisionChoice } from '../../../main/common/domain';
import type { StudioError } from '../../../main/common/errors';
import { asStudioError } from '../api/client';
import { useStudio } from '../common/studio-context';
import { ACTIVE_STATUSES } from '../jobs/job-snapshots';
import { InstalledModels } from './InstalledModels';
import { ModelJobProgress } from './ModelJobProgress';
import { PrecisionPicker } from './PrecisionPicker';
import { RuntimePanel } from './RuntimePanel';
import { useModelJob } from './use-model-job';
import './models.css';

const OFFICIAL_REPO = 'InternRobotics/G2VLM-2B-MoT';

function ErrorLine({ error }: { error: StudioError | null }) {
  if (!error) return null;
  return (
    <div className="job-error" role="alert" data-testid="model-error" data-code={error.code}>
      <strong>{error.message}</strong>
      {error.fix && <span>{error.fix}</span>}
    </div>
  );
}

/**
 * The Models view: installed models (use, remove), installing one — download
 * from the model hub or a local checkpoint folder, converted as a job with
 * progress and cancel — and what the model runs on (CPU, CUDA or why not).
 */
export function ModelsDialog({ onClose }: { onClose(): void }) {
  const { client, modelsChanged } = useStudio();
  const dialog = useRef<HTMLDialogElement>(null);
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [runtime, setRuntime] = useState<ModelRuntimeInfo | null>(null);
  const [repoId, setRepoId] = useState(OFFICIAL_REPO);
  const [revision, setRevision] = useState('main');
  const [precision, setPrecision] = useState<PrecisionChoice>('auto');
  const [path, setPath] = useState('');
  const [tokenizer, setTokenizer] = useState('');
  /** The installed model a re-import would replace, while the user decides. */
  const [replaceAsk, setReplaceAsk] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<StudioError | null>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  const refresh = useCallback(() => {
    client.call('models.list', {}).then(setModels, (cause: unknown) => setError(asStudioError(cause)));
    client.call('models.runtime', {}).then(setRuntime, (cause: unknown) => setError(asStudioError(cause)));
  }, [client]);
  useEffect(refresh, [refresh]);

  const onJobFinished = useCallback(
    (job: JobInfo) => {
      if (job.status === 'failed' && job.error?.code === 'already-installed')
        setReplaceAsk(job.error.message);
      if (job.status !== 'succeeded') return;
      refresh();
      modelsChanged();
    },
    [refresh, modelsChanged],
  );
  const { jobId, job, follow } = useModelJob(onJobFinished);
  const installing = jobId !== null && (job === null || ACTIVE_STATUSES.has(job.status));

  /** One action at a time; its error (message + fix) shows under the forms. */
  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (cause) {
      setError(asStudioError(cause));
    } finally {
      setBusy(false);
    }
  };

  const download = () =>
    act(async () => {
      const { jobId: started } = await client.call('models.download', {
        repoId: repoId.trim() || undefined,
        revision: revision.trim() || undefined,
        precision,
      });
      follow(started);
    });

  const importFolder = (replace = false) =>
    act(async () => {
      setReplaceAsk(null);
      const { jobId: started } = await client.call('models.import', {
        path: path.trim(),
        precision,
        tokenizer: tokenizer.trim() || undefined,
        replace,
      });
      follow(started);
    });

  const register = () =>
    act(async () => {
      await client.call('models.register', { path: path.trim() });
      setPath('');
      refresh();
      modelsChanged();
    });

  const changed = (action: () => Promise<unknown>) =>
    act(async () => {
      await action();
      refresh();
      modelsChanged();
    });

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
      <InstalledModels
        models={models}
        busy={busy}
        onUse={(model) => void changed(() => client.call('models.use', { modelId: model.id }))}
        onRemove={(model) => void changed(() => client.call('models.remove', { modelId: model.id }))}
      />

      <section className="models-section">
        <h3>Install</h3>
        <PrecisionPicker value={precision} onChange={setPrecision} path={path} />
        <form
          className="model-form"
          onSubmit={(event) => {
            event.preventDefault();
            void download();
          }}
        >
          <label htmlFor="model-repo">From the model hub</label>
          <div className="model-form-row">
            <input
              id="model-repo"
              value={repoId}
              onChange={(event) => setRepoId(event.target.value)}
              placeholder={OFFICIAL_REPO}
              aria-label="Repository id"
              data-testid="model-repo"
            />
            <input
              className="model-revision"
              value={revision}
              onChange={(event) => setRevision(event.target.value)}
              placeholder="main"
              aria-label="Revision"
              data-testid="model-revision"
            />
            <button
              className="primary"
              type="submit"
              disabled={busy || installing}
              data-testid="model-download"
            >
              Download
            </button>
          </div>
          <p className="muted small">
            Resumes an interrupted download; every file is checked against the hub&apos;s hash, then converted
            for the runtime at the precision chosen above.
          </p>
        </form>

        <form
          className="model-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (path.trim()) void importFolder(false);
          }}
        >
          <label htmlFor="model-path">From a folder on this machine</label>
          <div className="model-form-row">
            <input
              id="model-path"
              value={path}
              placeholder="/path/to/checkpoint or converted model"
              onChange={(event) => setPath(event.target.value)}
              data-testid="model-path"
            />
            <button type="submit" disabled={busy || installing || !path.trim()} data-testid="model-import">
              Import checkpoint
            </button>
            <button
              type="button"
              disabled={busy || !path.trim()}
              onClick={() => void register()}
              data-testid="model-register"
              title="A folder already converted with g2studio model convert"
            >
              Register converted
            </button>
          </div>
          <div className="model-form-row">
            <input
              value={tokenizer}
              placeholder="Tokenizer (optional): tokenizer.json or its folder, for checkpoints without one"
              onChange={(event) => setTokenizer(event.target.value)}
              aria-label="Tokenizer file or folder"
              data-testid="model-tokenizer"
            />
          </div>
          <p className="muted small">
            Chat needs the checkpoint&apos;s tokenizer; without one the model can only reconstruct.
          </p>
        </form>
        {replaceAsk && (
          <div className="model-replace" role="alertdialog" data-testid="model-replace">
            <span>{replaceAsk} Replace it with a new conversion?</span>
            <button
              className="danger"
              onClick={() => void importFolder(true)}
              data-testid="model-replace-confirm"
            >
              Replace
            </button>
            <button onClick={() => setReplaceAsk(null)} data-testid="model-replace-keep">
              Keep the installed one
            </button>
          </div>
        )}
        <ErrorLine error={error} />
        {jobId && (
          <ModelJobProgress
            job={job}
            onCancel={() =>
              void client
                .call('jobs.cancel', { jobId })
                .catch((cause: unknown) => setError(asStudioError(cause)))
            }
          />
        )}
      </section>

      <RuntimePanel runtime={runtime} />

      <div className="dialog-actions">
        <button onClick={onClose} data-testid="models-close">
          Close
        </button>
      </div>
    </dialog>
  );
}
