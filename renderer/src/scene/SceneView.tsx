import { useCallback, useEffect, useMemo, useState } from 'react';
import type { JobInfo, ModelInfo, SceneDetail } from '../../../main/common/domain';
import { asStudioError } from '../api/client';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { isActiveJob, mergeJobs } from '../jobs/job-snapshots';
import { QaPanel } from '../qa/QaPanel';
import { withPointMarker } from '../qa/qa-markers';
import { EditPanel } from './editing/EditPanel';
import { useEditShortcuts } from './editing/use-edit-shortcuts';
import { useEditedCloud } from './editing/use-edited-cloud';
import { useSceneEdits } from './editing/use-scene-edits';
import { ExportMenu } from './ExportMenu';
import { FrameStrip, type FrameVisibility } from './FrameStrip';
import { robustPointBounds } from './scene-extent';
import { ViewerTools } from './tools/ViewerTools';
import { usePointCloud } from './use-point-cloud';
import { useStoredQaMarkers } from './use-stored-qa-markers';
import { VIEW_PRESETS, type ViewRequest } from './view-presets';
import { Viewport } from './Viewport';

function countKept(keep: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < keep.length; i++) n += keep[i];
  return n;
}

interface SceneViewProps {
  sceneId: string;
  onBack(): void;
}

interface ReconstructButtonProps {
  scene: SceneDetail;
  models: ModelInfo[] | null;
  /** The scene's reconstruction job while it is queued or running. */
  runningJob: JobInfo | null;
}

function ReconstructButton({ scene, models, runningJob }: ReconstructButtonProps) {
  const { client, showError } = useStudio();
  const [starting, setStarting] = useState(false);
  if (scene.kind === 'pointcloud') return null;
  const model =
    models?.find((item) => item.active && item.capabilities.reconstruct) ??
    models?.find((item) => item.capabilities.reconstruct);
  const reason = runningJob
    ? 'A reconstruction of this scene is running (see Jobs).'
    : !models
      ? 'Checking installed models…'
      : !model
        ? 'No model is registered. Convert the G2VLM checkpoint with `g2studio model convert`, then register the folder under Models.'
        : scene.frames.filter((frame) => frame.selected).length < 2
          ? 'At least two selected frames are needed.'
          : null;
  return (
    <button
      className="primary"
      disabled={reason !== null || starting}
      title={reason ?? `Reconstruct with ${model?.name}`}
      data-testid="reconstruct-button"
      onClick={async () => {
        setStarting(true);
        try {
          await client.call('scenes.reconstruct', {
            sceneId: scene.id,
            ...(model ? { modelId: model.id } : {}),
          });
        } catch (error) {
          showError(error);
        } finally {
          setStarting(false);
        }
      }}
    >
      {runningJob
        ? `Reconstructing… ${Math.round(runningJob.progress * 100)}%`
        : scene.reconstruction
          ? 'Reconstruct again'
          : 'Reconstruct'}
    </button>
  );
}

export function SceneView({ sceneId, onBack }: SceneViewProps) {
  const { client, showError, modelsVersion } = useStudio();
  const [scene, setScene] = useState<SceneDetail | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [models, setModels] = useState<ModelInfo[] | null>(null);
  const [pointSizePx, setPointSizePx] = useState(3);
  const [showCameras, setShowCameras] = useState(true);
  const [view, setView] = useState<ViewRequest>({ preset: 'fit', n: 0 });
  const [activeFrameId, setActiveFrameId] = useState<string | null>(null);
  // The points a question refers to: placed on frames in the Q&A panel, or picked in 3D with the Mark tool (kept over a reload).
  const [qaMarkers, updateQaMarkers] = useStoredQaMarkers(sceneId);

  const refresh = useCallback(() => {
    client.call('scenes.get', { sceneId }).then(setScene, (error: unknown) => {
      const studioError = asStudioError(error);
      if (studioError.code === 'not-found') setMissing(studioError.message);
      else showError(studioError);
    });
  }, [client, sceneId, showError]);
  useEffect(refresh, [refresh]);
  useEffect(() => {
    client.call('models.list', {}).then(setModels, () => setModels([]));
  }, [client, modelsVersion]);
  // This scene's reconstruction jobs as last seen (events and jobs.list merged).
  const [reconstructJobs, setReconstructJobs] = useState<JobInfo[]>([]);
  const isThisReconstruct = useCallback(
    (job: JobInfo) => job.kind === 'reconstruct' && job.sceneId === sceneId,
    [sceneId],
  );
  useEffect(() => {
    client.call('jobs.list', { sceneId }).then(
      (jobs) => setReconstructJobs((current) => mergeJobs(current, jobs.filter(isThisReconstruct))),
      () => undefined, // without the list, live job events alone keep the button right
    );
  }, [client, sceneId, isThisReconstruct]);
  const runningJob = reconstructJobs.find(isActiveJob) ?? null;
  useStudioEvents((event) => {
    if (event.type === 'job' && isThisReconstruct(event.job)) {
      setReconstructJobs((current) => mergeJobs(current, [event.job]));
    }
    // Only events about this scene (or about everything, after a reconnect) refetch its details.
    if (event.type === 'scenes-changed' && (!event.sceneId || event.sceneId === sceneId)) refresh();
    if (event.type === 'job' && event.job.sceneId === sceneId && event.job.status === 'succeeded') refresh();
  });

  // Arrays are keyed by what they hold, not by the scene's updated_at: a rename,
  // a scale or a levelling changes the scene but not its points.
  const cloudKey = scene ? pointCloudKey(scene) : '';
  const baseCloud = usePointCloud(client, sceneId, scene?.pointCount ?? 0, cloudKey);
  useEffect(() => {
    if (baseCloud.status === 'failed') showError(baseCloud.error);
  }, [baseCloud, showError]);

  // The edit stack decides what is drawn: its cloud (voxel or not) and its keep mask,
  // narrowed further by a filter the user is previewing.
  const edits = useSceneEdits(sceneId, (scene?.pointCount ?? 0) > 0, cloudKey);
  useEditShortcuts(edits, edits.state !== null);
  const { cloud, keep: editKeep } = useEditedCloud(sceneId, baseCloud, edits);
  const [filterPreview, setFilterPreview] = useState<Uint8Array | null>(null);
  const keep = filterPreview && filterPreview.length === editKeep?.length ? filterPreview : editKeep;
  const shownCount = useMemo(() => (keep ? countKept(keep) : null), [keep]);
  const diagonal = useMemo(() => {
    if (baseCloud.status !== 'ready') return null;
    const bounds = robustPointBounds(baseCloud.geometry.getAttribute('position').array);
    return bounds ? bounds.max.distanceTo(bounds.min) : null;
  }, [baseCloud]);

  const frameVisibility: FrameVisibility | null =
    scene && scene.cameras.length > 0 && edits.state
      ? {
          hidden: edits.state.hiddenFrames,
          disabledReason:
            edits.state.cloud === 'voxel'
              ? 'Frames cannot be hidden after a voxel downsample: undo it first.'
              : edits.busy
                ? 'An edit is being applied…'
                : null,
          onChange: (hidden) => void edits.push({ kind: 'hide-frames', params: { frameIndices: hidden } }),
        }
      : null;

  if (missing) {
    return (
      <section className="scene-view">
        <div className="empty-state" data-testid="scene-missing">
          <h2>Scene not found</h2>
          <p>{missing}</p>
          <button onClick={onBack}>Back to the library</button>
        </div>
      </section>
    );
  }
  if (!scene) return <section className="scene-view loading">Loading scene…</section>;

  const geometry = cloud.status === 'ready' ? cloud.geometry : null;
  return (
    <section className="scene-view" data-testid="scene-view" data-scene-id={scene.id}>
      <div className="view-header">
        <button className="icon-button" onClick={onBack} title="Back to the library" data-testid="scene-back">
          ←
        </button>
        <h1 data-testid="scene-title">{scene.name}</h1>
        <span className="muted">
          {scene.pointCount.toLocaleString()} points · {scene.cameras.length} cameras · {scene.frames.length}{' '}
          frames
        </span>
        <div className="spacer" />
        <ReconstructButton scene={scene} models={models} runningJob={runningJob} />
        <ExportMenu scene={scene} edits={edits.state} />
      </div>
      <div className="scene-body">
        <div className="viewport-wrap">
          <ViewerTools
            scene={scene}
            edits={edits}
            keep={keep}
            pointMarkers={qaMarkers.points}
            onMarkPoint={(point) => updateQaMarkers((current) => withPointMarker(current, point))}
          >
            {(tools) => (
              <Viewport
                scene={scene}
                geometry={geometry}
                pointSizePx={pointSizePx}
                view={view}
                showCameras={showCameras}
                activeFrameId={activeFrameId}
                keep={tools.keep}
                highlight={tools.highlight}
                onCloud={tools.onCloud}
              >
                {tools.canvasContent}
              </Viewport>
            )}
          </ViewerTools>
          <div className="viewport-toolbar">
            {VIEW_PRESETS.map(({ preset, label, title }) => (
              <button
                key={preset}
                onClick={() => setView((current) => ({ preset, n: current.n + 1 }))}
                data-testid={preset === 'fit' ? 'fit-button' : `view-${preset}`}
                title={title}
              >
                {label}
              </button>
            ))}
            <label className="slider" title="Point size in screen pixels">
              Point size
              <input
                type="range"
                min={1}
                max={12}
                step={1}
                value={pointSizePx}
                data-testid="point-size"
                onChange={(event) => setPointSizePx(Number(event.target.value))}
              />
              <span>{pointSizePx}px</span>
            </label>
            {scene.cameras.length > 0 && (
              <label className="toggle">
                <input
                  type="checkbox"
                  checked={showCameras}
                  onChange={(event) => setShowCameras(event.target.checked)}
                />
                Cameras
              </label>
            )}
          </div>
          <div
            className="viewport-status"
            data-testid="cloud-status"
            data-status={cloud.status}
            data-shown={shownCount ?? ''}
            data-previewing={filterPreview !== null}
          >
            {cloud.status === 'loading' && 'Loading points…'}
            {cloud.status === 'empty' &&
              (scene.kind === 'pointcloud'
                ? 'This point cloud is empty.'
                : 'No 3D yet: reconstruct this scene to see it here.')}
            {cloud.status === 'ready' &&
              (shownCount !== null && shownCount !== cloud.pointCount
                ? `${filterPreview ? 'Preview: ' : ''}${shownCount.toLocaleString()} of ${cloud.pointCount.toLocaleString()} points`
                : `${cloud.pointCount.toLocaleString()} points`)}
          </div>
        </div>
        {scene.pointCount > 0 && (
          <EditPanel scene={scene} edits={edits} diagonal={diagonal} onFilterPreview={setFilterPreview} />
        )}
      </div>
      {scene.frames.length > 0 && (
        <FrameStrip
          scene={scene}
          activeFrameId={activeFrameId}
          onActivate={setActiveFrameId}
          visibility={frameVisibility}
          selectionLockedReason={
            runningJob
              ? 'A reconstruction of this scene is running: the selection can change when it ends.'
              : null
          }
          onSceneChange={setScene}
        />
      )}
      {scene.kind !== 'pointcloud' && (
        <QaPanel
          scene={scene}
          models={models}
          markers={qaMarkers}
          onMarkersChange={(markers) => updateQaMarkers(() => markers)}
        />
      )}
    </section>
  );
}

/** What identifies a scene's stored points: its reconstruction (or the imported cloud) and their count. */
export function pointCloudKey(scene: Pick<SceneDetail, 'reconstruction' | 'pointCount'>): string {
  return `${scene.reconstruction?.id ?? 'source'}:${scene.pointCount}`;
}
