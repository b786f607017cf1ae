import { useEffect, useState } from 'react';
import type { JobInfo, ModelInfo } from '../../../main/common/domain';
import { useStudio, useStudioEvents } from '../common/studio-context';
import './models.css';

// The official G2VLM-2B-MoT checkpoint: 4.54 B parameters stored as bf16.
const DOWNLOAD_GB = 9.1;
// While installing, the download and the converted model (fp16: the same size) sit side by side;
// afterwards only the converted model stays.
const INSTALL_DISK_GB = 2 * DOWNLOAD_GB;

/**
 * The first thing a new user needs to know: reconstruction and questions need the
 * G2VLM model, what it costs to get, and the two ways to get it. Shown on the
 * library while no model is installed; gone once one is.
 */
export function ModelSetupCard({ onOpenModels }: { onOpenModels: () => void }) {
  const { client, showError, modelsVersion, modelsChanged } = useStudio();
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    client.call('models.list', {}).then(setModels, showError);
  }, [client, showError, modelsVersion]);
  // An install finished in the Models view, the CLI or another window: look again.
  useStudioEvents((event) => {
    if (event.type === 'job' && isFinishedInstall(event.job)) modelsChanged();
  });

  if (models === null || models.length > 0) return null;

  const download = async () => {
    setStarting(true);
    try {
      await client.call('models.download', { precision: 'fp16' });
      onOpenModels(); // the Models view follows the running download
    } catch (error) {
      showError(error);
    } finally {
      setStarting(false);
    }
  };

  return (
    <section className="model-setup-card" data-testid="model-setup-card">
      <h2>Install the G2VLM model to reconstruct and ask</h2>
      <p>
        G2 Studio turns frames into camera poses and a 3D point cloud, and answers spatial questions, with
        G2VLM — a 4.5 billion parameter vision-language model that runs on this machine, offline once
        installed. Importing, viewing and exporting work without it.
      </p>
      <p className="muted small" data-testid="model-setup-sizes">
        Download: about {DOWNLOAD_GB} GB from the model hub (resumable, checked file by file). Disk: about{' '}
        {INSTALL_DISK_GB} GB free while installing, {DOWNLOAD_GB} GB afterwards (fp16).
      </p>
      <div className="model-setup-actions">
        <button
          className="primary"
          onClick={() => void download()}
          disabled={starting}
          data-testid="setup-download"
        >
          Download G2VLM-2B ({DOWNLOAD_GB} GB)
        </button>
        <button onClick={onOpenModels} data-testid="setup-import">
          Import a checkpoint folder…
        </button>
      </div>
    </section>
  );
}

function isFinishedInstall(job: JobInfo): boolean {
  return (job.kind === 'download' || job.kind === 'convert') && job.status === 'succeeded';
}
