// Loads a scene's point cloud as binary (float32 xyz, uint8 rgb) straight into
// typed arrays for a BufferGeometry: no JSON, no per-point objects. The geometry
// keeps the stored point order (masks, picks and edits index it); the viewer's
// BudgetedPointCloud (./points) uploads its own shuffled copy to the GPU.

import { useEffect, useState } from 'react';
import { BufferAttribute, BufferGeometry } from 'three';
import { blobPaths } from '../../../main/common/api';
import type { StudioClient } from '../api/client';

export type CloudState =
  | { status: 'empty' }
  | { status: 'loading' }
  | { status: 'ready'; geometry: BufferGeometry; pointCount: number }
  | { status: 'failed'; error: unknown };

/** The blobs to load: the scene's own cloud unless given (the edit stack's voxel cloud). */
export interface CloudBlobs {
  points: string;
  colors: string;
}

export function usePointCloud(
  client: StudioClient,
  sceneId: string,
  pointCount: number,
  version: string,
  blobs?: CloudBlobs,
): CloudState {
  const pointsPath = blobs?.points ?? blobPaths.points(sceneId);
  const colorsPath = blobs?.colors ?? blobPaths.colors(sceneId);
  const [state, setState] = useState<CloudState>({ status: pointCount > 0 ? 'loading' : 'empty' });

  useEffect(() => {
    if (pointCount === 0) return;
    const abort = new AbortController();
    let geometry: BufferGeometry | null = null;
    Promise.all([
      client.fetchBlob(pointsPath, abort.signal),
      client.fetchBlob(colorsPath, abort.signal),
    ]).then(
      ([pointBytes, colorBytes]) => {
        if (abort.signal.aborted) return;
        const positions = new Float32Array(pointBytes);
        const colors = new Uint8Array(colorBytes);
        const count = Math.floor(positions.length / 3);
        geometry = new BufferGeometry();
        geometry.setAttribute('position', new BufferAttribute(positions, 3));
        // Colours stay bytes on the GPU; `normalized` maps 0..255 to 0..1 in the shader.
        if (colors.length === count * 3) geometry.setAttribute('color', new BufferAttribute(colors, 3, true));
        geometry.computeBoundingSphere();
        setState({ status: 'ready', geometry, pointCount: count });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setState({ status: 'failed', error });
      },
    );
    return () => {
      abort.abort();
      geometry?.dispose();
    };
  }, [client, pointsPath, colorsPath, pointCount, version]);

  return pointCount === 0 ? { status: 'empty' } : state;
}
