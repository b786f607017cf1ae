// The cloud the viewer draws: the scene's own points, or the voxel-downsampled
// points once a voxel edit replaced them. The voxel cloud changes only when
// the edits up to the last voxel edit change, so later edits (a filter after
// the downsample) reuse it and only the keep mask reloads.

import { useMemo, useState } from 'react';
import type { BufferGeometry } from 'three';
import { blobPaths } from '../../../../main/common/api';
import type { SceneEditState } from '../../../../main/common/domain';
import { useStudio } from '../../common/studio-context';
import { usePointCloud, type CloudState } from '../use-point-cloud';
import type { SceneEdits } from './use-scene-edits';

/** Identifies the voxel cloud: the edits up to and including the last voxel edit. */
function voxelKey(state: SceneEditState | null): string | null {
  if (!state || state.cloud !== 'voxel') return null;
  let last = -1;
  state.edits.forEach((stored, n) => {
    if (stored.edit.kind === 'voxel') last = n;
  });
  return last < 0
    ? null
    : state.edits
        .slice(0, last + 1)
        .map((stored) => stored.id)
        .join(',');
}

export interface EditedCloud {
  /** What the viewport draws. */
  cloud: CloudState;
  /** The keep mask when it fits the drawn cloud, else null. */
  keep: Uint8Array | null;
}

export function useEditedCloud(sceneId: string, base: CloudState, edits: SceneEdits): EditedCloud {
  const { client } = useStudio();
  const key = voxelKey(edits.state);
  // The revision at which this voxel cloud first appeared; later revisions serve the same points.
  const [pinned, setPinned] = useState<{ key: string; revision: string } | null>(null);
  const revision = edits.state?.revision ?? null;
  if (key && revision && pinned?.key !== key) setPinned({ key, revision });
  const blobRevision = key && pinned?.key === key ? pinned.revision : null;
  const blobs = useMemo(
    () =>
      blobRevision
        ? {
            points: blobPaths.editPoints(sceneId, blobRevision),
            colors: blobPaths.editColors(sceneId, blobRevision),
          }
        : undefined,
    [sceneId, blobRevision],
  );
  const voxel = usePointCloud(
    client,
    sceneId,
    blobs ? (edits.state?.pointCount ?? 0) : 0,
    blobRevision ?? '',
    blobs,
  );
  const cloud = key ? voxel : base;
  const count = cloud.status === 'ready' ? geometryCount(cloud.geometry) : -1;
  return { cloud, keep: edits.keep && edits.keep.length === count ? edits.keep : null };
}

function geometryCount(geometry: BufferGeometry): number {
  return geometry.getAttribute('position')?.count ?? -1;
}
