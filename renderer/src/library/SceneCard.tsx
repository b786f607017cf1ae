import { useState } from 'react';
import { blobPaths } from '../../../main/common/api';
import type { SceneSummary } from '../../../main/common/domain';
import { PencilIcon, PointCloudIcon, TrashIcon } from '../common/icons';
import { useStudio } from '../common/studio-context';

interface SceneCardProps {
  scene: SceneSummary;
  onOpen(): void;
  onRename(name: string): void;
  onDelete(): void;
}

const KIND_LABEL = { video: 'Video', photos: 'Photos', pointcloud: 'Point cloud' } as const;

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function SceneCard({ scene, onOpen, onRename, onDelete }: SceneCardProps) {
  const { client } = useStudio();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(scene.name);

  const commit = () => {
    setEditing(false);
    const name = draft.trim();
    if (name && name !== scene.name) onRename(name);
    else setDraft(scene.name);
  };

  return (
    <article className="scene-card" data-testid="scene-card" data-scene-id={scene.id} data-kind={scene.kind}>
      <button
        className="scene-thumb"
        onClick={onOpen}
        aria-label={`Open ${scene.name}`}
        data-testid="scene-open"
      >
        {scene.thumbnailFrameId ? (
          <img
            src={client.blobUrl(blobPaths.frameThumb(scene.thumbnailFrameId))}
            alt=""
            draggable={false}
            data-testid="scene-thumb"
          />
        ) : (
          <span className="thumb-placeholder">
            <PointCloudIcon />
          </span>
        )}
      </button>
      <div className="scene-meta">
        {editing ? (
          <input
            className="rename-input"
            value={draft}
            autoFocus
            maxLength={200}
            data-testid="rename-input"
            onChange={(event) => setDraft(event.target.value)}
            onBlur={commit}
            onKeyDown={(event) => {
              if (event.key === 'Enter') commit();
              if (event.key === 'Escape') {
                setDraft(scene.name);
                setEditing(false);
              }
            }}
          />
        ) : (
          // The name opens the scene, as the thumbnail does; renaming is the pencil button's.
          <h3 className="scene-name" title={`Open ${scene.name}`} data-testid="scene-name" onClick={onOpen}>
            {scene.name}
          </h3>
        )}
        <div className="scene-facts">
          <span className={`kind-chip kind-${scene.kind}`}>{KIND_LABEL[scene.kind]}</span>
          {scene.frameCount > 0 && <span>{scene.frameCount} frames</span>}
          {scene.pointCount > 0 && <span>{formatCount(scene.pointCount)} points</span>}
        </div>
        <div className="scene-actions">
          <button
            className="icon-button"
            title="Rename"
            data-testid="scene-rename"
            onClick={() => {
              setDraft(scene.name);
              setEditing(true);
            }}
          >
            <PencilIcon />
          </button>
          <button className="icon-button danger" title="Delete" data-testid="scene-delete" onClick={onDelete}>
            <TrashIcon />
          </button>
        </div>
      </div>
    </article>
  );
}
