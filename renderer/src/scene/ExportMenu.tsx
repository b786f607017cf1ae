// Export menu: point files (PLY, GLB) written at once, and camera formats
// (COLMAP, nerfstudio) written by a job whose progress shows on the button and
// can be cancelled; both are downloaded when ready. Exports contain what the
// edit stack leaves, levelled and in metres when the scene has them.

import { useEffect, useRef, useState } from 'react';
import { blobPaths } from '../../../main/common/api';
import type { CameraExportResult, JobInfo, SceneDetail, SceneEditState } from '../../../main/common/domain';
import { StudioError } from '../../../main/common/errors';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { isActiveJob, laterSnapshot } from '../jobs/job-snapshots';
import './editing/editing.css';

const POINT_CHOICES = [
  { id: 'ply-binary', label: 'PLY (binary)', format: 'ply', encoding: 'binary' },
  { id: 'ply-ascii', label: 'PLY (ASCII)', format: 'ply', encoding: 'ascii' },
  { id: 'glb', label: 'GLB (points + cameras)', format: 'glb', encoding: undefined },
] as const;

const CAMERA_CHOICES = [
  { id: 'colmap', label: 'COLMAP text model (.zip)', format: 'colmap' },
  { id: 'nerfstudio', label: 'nerfstudio transforms.json (.zip)', format: 'nerfstudio' },
] as const;

/** Saves the file the core wrote: an <a download> pointing at the export blob. */
function download(url: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

interface ExportMenuProps {
  scene: SceneDetail;
  /** The edit stack's result, for saying what the files contain. */
  edits: SceneEditState | null;
}

function contentNote(scene: SceneDetail, edits: SceneEditState | null): string {
  const points =
    edits && edits.edits.length > 0
      ? `the edited points (${edits.keptCount.toLocaleString()} kept)`
      : `all ${scene.pointCount.toLocaleString()} points`;
  const units = scene.metresPerUnit ? 'in metres' : 'in scene units (set a scale to export in metres)';
  return `Exports contain ${points}, ${units}${scene.groundAlignment ? ', levelled on the ground' : ''}.`;
}

export function ExportMenu({ scene, edits }: ExportMenuProps) {
  const { client, showError } = useStudio();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<JobInfo | null>(null);
  const jobId = useRef<string | null>(null);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);

  /** A snapshot of our camera export: progress while it runs; when over, its zip downloads (or its error shows). */
  const track = (snapshot: JobInfo) => {
    if (snapshot.id !== jobId.current) return;
    if (isActiveJob(snapshot)) {
      setJob((current) => (current ? laterSnapshot(current, snapshot) : snapshot));
      return;
    }
    jobId.current = null;
    setJob(null);
    if (snapshot.status === 'succeeded' && snapshot.result) {
      const result = snapshot.result as unknown as CameraExportResult;
      // The studio's own exports are zips; a folder export (outDir) is already where it belongs.
      if (result.exportId) download(client.blobUrl(blobPaths.export(result.exportId)), result.fileName);
    } else if (snapshot.status === 'failed' && snapshot.error) {
      showError(StudioError.fromInfo(snapshot.error));
    }
  };
  useStudioEvents((event) => {
    if (event.type === 'job') track(event.job);
  });

  const exportPoints = async (choice: (typeof POINT_CHOICES)[number]) => {
    setOpen(false);
    setBusy(true);
    try {
      const result = await client.call('scenes.export', {
        sceneId: scene.id,
        format: choice.format,
        ...(choice.encoding ? { encoding: choice.encoding } : {}),
      });
      download(client.blobUrl(blobPaths.export(result.exportId)), result.fileName);
    } catch (error) {
      showError(error);
    } finally {
      setBusy(false);
    }
  };

  const exportCameras = async (choice: (typeof CAMERA_CHOICES)[number]) => {
    setOpen(false);
    setBusy(true);
    try {
      const { jobId: id } = await client.call('scenes.exportCameras', {
        sceneId: scene.id,
        format: choice.format,
      });
      jobId.current = id;
      // Events may have passed before the id was known: catch up once from the list.
      const jobs = await client.call('jobs.list', { sceneId: scene.id });
      const known = jobs.find((item) => item.id === id);
      if (known) track(known);
    } catch (error) {
      showError(error);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (!job) return;
    try {
      track(await client.call('jobs.cancel', { jobId: job.id }));
    } catch (error) {
      showError(error);
    }
  };

  const noPoints = scene.pointCount === 0 || (edits !== null && edits.keptCount === 0);
  const camerasReason =
    scene.cameras.length === 0
      ? scene.kind === 'pointcloud'
        ? 'An imported point cloud has no cameras.'
        : 'Reconstruct the scene first: camera formats need its cameras.'
      : scene.cameras.some((camera) => camera.frameId && !camera.intrinsics)
        ? 'Some cameras have no intrinsics (no focal length could be fitted to their point maps), so camera formats cannot describe them.'
        : null;

  if (job) {
    return (
      <div className="export-progress" data-testid="export-progress" data-status={job.status}>
        <span>
          Exporting {job.stage ? `· ${job.stage} ` : ''}
          {Math.round(job.progress * 100)}%
        </span>
        <button onClick={() => void cancel()} data-testid="export-cancel">
          Cancel
        </button>
      </div>
    );
  }

  return (
    <div className="menu" ref={root}>
      <button
        onClick={() => setOpen((value) => !value)}
        disabled={noPoints || busy}
        title={noPoints ? 'This scene has no points to export yet.' : 'Write the point cloud to a file'}
        data-testid="export-button"
        aria-haspopup="menu"
        aria-expanded={open}
      >
        {busy ? 'Exporting…' : 'Export ▾'}
      </button>
      {open && (
        <div className="menu-items" role="menu">
          <div className="menu-note" data-testid="export-note">
            {contentNote(scene, edits)}
          </div>
          {POINT_CHOICES.map((choice) => (
            <button
              key={choice.id}
              role="menuitem"
              onClick={() => void exportPoints(choice)}
              data-testid={`export-${choice.id}`}
            >
              {choice.label}
            </button>
          ))}
          {CAMERA_CHOICES.map((choice) => (
            <button
              key={choice.id}
              role="menuitem"
              disabled={camerasReason !== null}
              title={camerasReason ?? 'Cameras, images and points of the selected, visible frames'}
              onClick={() => void exportCameras(choice)}
              data-testid={`export-${choice.id}`}
            >
              {choice.label}
            </button>
          ))}
          {camerasReason && (
            <div className="menu-note" data-testid="export-cameras-reason">
              {camerasReason}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
