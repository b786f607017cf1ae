// Values the reconstruction itself gives for a question with markers, shown
// beside the model's answer: the distance between every two marked points and
// each marked point's depth from its frame's camera. A marker sits on a
// displayed frame; its 3D point is the frame's local point map at that pixel
// (the map is the frame resized to the model's input size), moved to world
// coordinates with the frame's worldFromCamera pose.

import type { GeometricEvidence, Marker } from '../../common/domain';
import { cameraPointAt, toWorld, type Vec3 } from './evidence';

export interface MarkerGeometry {
  /** Frame index (FrameInfo.index) of each reconstructed frame, in map order. */
  frameIndices: number[];
  /** Displayed size of each reconstructed frame, in map order. */
  frameSizes: Array<{ width: number; height: number }>;
  mapWidth: number;
  mapHeight: number;
  /** N x 4 x 4 row-major camera-to-world. */
  worldFromCamera: Float32Array;
  /** N x H x W x 3, each frame's own camera. */
  localPointMaps: Float32Array;
}

export interface MarkedPoint {
  marker: Marker;
  local: Vec3;
  world: Vec3;
}

export function markedPoint(geometry: MarkerGeometry, marker: Marker): MarkedPoint | null {
  const n = geometry.frameIndices.indexOf(marker.frameIndex);
  if (n < 0) return null;
  const size = geometry.frameSizes[n];
  const { mapWidth, mapHeight } = geometry;
  const pixel = {
    frame: n,
    x: Math.min(mapWidth - 1, Math.max(0, Math.floor((marker.x / size.width) * mapWidth))),
    y: Math.min(mapHeight - 1, Math.max(0, Math.floor((marker.y / size.height) * mapHeight))),
  };
  const reconstruction = {
    frameCount: geometry.frameIndices.length,
    width: mapWidth,
    height: mapHeight,
    worldFromCamera: geometry.worldFromCamera,
    localPoints: geometry.localPointMaps,
  };
  let local: Vec3;
  try {
    // The exact pixel under the marker: the user placed it on purpose.
    local = cameraPointAt(reconstruction, pixel, 0);
  } catch {
    return null; // no finite point there (sky, a masked pixel)
  }
  return { marker, local, world: toWorld(reconstruction, n, local) };
}

export function markerEvidence(
  geometry: MarkerGeometry,
  markers: Marker[],
  metresPerUnit: number | null,
): GeometricEvidence[] {
  const unit: GeometricEvidence['unit'] = metresPerUnit ? 'metres' : 'model units';
  const scale = metresPerUnit ?? 1;
  const points = markers.map((m) => markedPoint(geometry, m)).filter((p): p is MarkedPoint => p !== null);
  const evidence: GeometricEvidence[] = [];
  for (const p of points) {
    evidence.push({
      label: `Depth of the ${p.marker.color} point from the camera of frame ${p.marker.frameIndex}`,
      value: p.local[2] * scale,
      unit,
    });
  }
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i].world,
        b = points[j].world;
      evidence.push({
        label: `Distance between the ${points[i].marker.color} and ${points[j].marker.color} points`,
        value: Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) * scale,
        unit,
      });
    }
  }
  return evidence;
}
