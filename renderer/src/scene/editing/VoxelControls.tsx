// Voxel downsample: one point per voxel of the given size (in scene units, the
// stack's unit), pushed as an edit so undo brings the full cloud back.

import { useState } from 'react';
import type { SceneDetail } from '../../../../main/common/domain';
import { formatLength, formatNumber } from './edit-labels';
import type { SceneEdits } from './use-scene-edits';

/** Voxels per scene diagonal for the suggested size: visibly lighter, still the same shapes. */
const VOXELS_PER_DIAGONAL = 300;

interface VoxelControlsProps {
  scene: SceneDetail;
  edits: SceneEdits;
  /** The scene's diagonal in scene units (robust to far outliers), null when unknown. */
  diagonal: number | null;
}

export function VoxelControls({ scene, edits, diagonal }: VoxelControlsProps) {
  const suggested = diagonal && diagonal > 0 ? Number((diagonal / VOXELS_PER_DIAGONAL).toPrecision(2)) : null;
  const [typed, setTyped] = useState<string | null>(null);
  const text = typed ?? (suggested !== null ? String(suggested) : '');
  const size = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(size) && size > 0;
  const reason = !edits.state
    ? 'Loading the edit stack…'
    : edits.busy
      ? 'An edit is being applied…'
      : !valid
        ? 'Give a voxel size above zero.'
        : null;

  return (
    <details className="edit-section" data-testid="voxel-section">
      <summary>Voxel downsample</summary>
      <div className="edit-form">
        <label>
          Voxel size (scene units)
          <input
            type="number"
            min={0}
            step="any"
            value={text}
            data-testid="voxel-size"
            onChange={(event) => setTyped(event.target.value)}
          />
        </label>
        <p className="edit-note">
          {valid
            ? `One point per ${formatLength(size, scene.metresPerUnit)} cube${
                diagonal ? ` (about ${formatNumber(diagonal / size)} across the scene)` : ''
              }.`
            : 'Give a voxel size above zero.'}
        </p>
        <div className="edit-actions">
          <button
            className="primary"
            disabled={reason !== null}
            title={reason ?? 'Replace the kept points by one point per voxel'}
            data-testid="voxel-apply"
            onClick={() => void edits.push({ kind: 'voxel', params: { voxelSize: size } })}
          >
            Downsample
          </button>
        </div>
      </div>
    </details>
  );
}
