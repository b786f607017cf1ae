// The side panel of the scene view for cleaning: quality filter, voxel
// downsample and the edit history. Every change is an edit on the scene's
// stack (useSceneEdits), so it is stored, undoable and honoured by exports.

import type { SceneDetail } from '../../../../main/common/domain';
import { EditHistory } from './EditHistory';
import { FilterControls } from './FilterControls';
import type { SceneEdits } from './use-scene-edits';
import { VoxelControls } from './VoxelControls';
import './editing.css';

interface EditPanelProps {
  scene: SceneDetail;
  edits: SceneEdits;
  /** Robust scene diagonal in scene units (for the suggested voxel size). */
  diagonal: number | null;
  onFilterPreview(keep: Uint8Array | null): void;
}

export function EditPanel({ scene, edits, diagonal, onFilterPreview }: EditPanelProps) {
  return (
    <aside className="edit-panel" data-testid="edit-panel">
      <h2>Clean</h2>
      <FilterControls sceneId={scene.id} edits={edits} onPreview={onFilterPreview} />
      <VoxelControls key={scene.id} scene={scene} edits={edits} diagonal={diagonal} />
      <EditHistory edits={edits} metresPerUnit={scene.metresPerUnit} />
    </aside>
  );
}
