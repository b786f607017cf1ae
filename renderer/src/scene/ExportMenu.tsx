// Export menu: point files (PLY with a chosen up axis, GLB) and camera formats
// (COLMAP, nerfstudio), each written by a job whose progress shows in place of
// the button (and in Jobs) and can be cancelled; the file downloads when the
// job is done, and the studio then deletes its copy (export-lifetime.ts).
// Exports contain what the edit stack leaves, levelled and in metres when the
// scene has them.

import { useEffect, useRef, useState } from 'react';
import { blobPaths } from '../../../main/common/api';
import type { JobInfo, SceneDetail, SceneEditState } from '../../../main/common/domain';
import { StudioError } from '../../../main/common/errors';
import {
  DEFAULT_PLY_UP_AXIS,
  UP_AXES,
  UP_AXIS_DESCRIPTIONS,
  type UpAxis,
} from '../../../main/common/export-axes';
import { EXPORT_LIFETIME_NOTE } from '../../../main/common/export-lifetime';
import { stageName } from '../../../main/common/job-stages';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { isActiveJob, laterSnapshot } from '../jobs/job-snapshots';
import './editing/editing.css';
import './export-menu.css';

const POINT_CHOICES = [
  { id: 'ply-binary', label: 'PLY (binary)', format: 'ply', encoding: 'binary' },
  { id: 'ply-ascii', label: 'PLY (ASCII)', format: 'ply', encoding: 'ascii' },
  { id: 'glb', label: 'GLB (points + cameras, y-up)', format: 'glb', encoding: undefined },
] as const;

/** The up-axis choices for PLY as the menu names them; the default says so. */
const UP_AXIS_LABELS: Record<UpAxis, string> = {
  opencv: 'OpenCV, y down',
  'y-up': 'y up (MeshLab, three.js)',
  'z-up': 'z up (Blender, CloudCompare)',
};

const upAxisLabel = (axis: UpAxis): string =>
  axis === DEFAULT_PLY_UP_AXIS ? `${UP_AXIS_LABELS[axis]} — default` : UP_AXIS_LABELS[axis];

/** What every export job's result has: the file to download (null: written to a folder). */
interface DownloadableResult {
  exportId: string | null;
  fileName: string;
}

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
  const [plyUpAxis, setPlyUpAxis] = useState<UpAxis>(DEFAULT_PLY_UP_AXIS);
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

  /** A snapshot of our export job: progress while it runs; when over, its file downloads (or its error shows). */
  const track = (snapshot: JobInfo) => {
    if (snapshot.id !== jobId.current) return;
    if (isActiveJob(snapshot)) {
      setJob((current) => (current ? laterSnapshot(current, snapshot) : snapshot));
      return;
    }
    jobId.current = null;
    setJob(null);
    if (snapshot.status === 'succeeded' && snapshot.result) {
      const result = snapshot.result as unknown as DownloadableResult;
      // A folder export (outDir) is already where it belongs; the others download.
      if (result.exportId) download(client.blobUrl(blobPaths.export(result.exportId)), result.fileName);
    } else if (snapshot.status === 'failed' && snapshot.error) {
      showError(StudioError.fromInfo(snapshot.error));
    }
  };
  useStudioEvents((event) => {
    if (event.type === 'job') track(event.job);
  });

  /** Start an export job and follow it (its events, and the list once for events missed before the id was known). */
  const startExport = async (start: () => Promise<{ jobId: string }>) => {
    setOpen(false);
    setBusy(true);
    try {
      const { jobId: id } = await start();
      jobId.current = id;
      const jobs = await client.call('jobs.list', { sceneId: scene.id });
      const known = jobs.find((item) => item.id === id);
      if (known) track(known);
    } catch (error) {
      showError(error);
    } finally {
      setBusy(false);
    }
  };

  const exportPoints = (choice: (typeof POINT_CHOICES)[number]) =>
    startExport(() =>
      client.call('scenes.export', {
        sceneId: scene.id,
        format: choice.format,
        ...(choice.encoding ? { encoding: choice.encoding } : {}),
        ...(choice.format === 'ply' ? { upAxis: plyUpAxis } : {}),
      }),
    );

  const exportCameras = (choice: (typeof CAMERA_CHOICES)[number]) =>
    startExport(() => client.call('scenes.exportCameras', { sceneId: scene.id, format: choice.format }));

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
        <span data-testid="export-stage" data-stage={job.stage}>
          Exporting · {stageName(job.stage, job.kind)} {Math.round(job.progress * 100)}%
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
        <div className="menu-items export-menu-items" role="menu">
          <div className="menu-note" data-testid="export-note">
            {contentNote(scene, edits)}
          </div>
          <label className="export-field" title={UP_AXIS_DESCRIPTIONS[plyUpAxis]}>
            <span>PLY up axis</span>
            <select
              value={plyUpAxis}
              onChange={(event) => setPlyUpAxis(event.target.value as UpAxis)}
              data-testid="export-up-axis"
            >
              {UP_AXES.map((axis) => (
                <option key={axis} value={axis}>
                  {upAxisLabel(axis)}
                </option>
              ))}
            </select>
          </label>
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
          <div className="menu-note" data-testid="export-lifetime">
            {EXPORT_LIFETIME_NOTE}
          </div>
        </div>
      )}
    </div>
  );
}
