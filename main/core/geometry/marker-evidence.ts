// Values the reconstruction itself gives for a question with markers, shown
// beside the model's answer: the distance between every two marked points and
// each marked point's depth from its frame's camera. A marker sits on a
// displayed frame; its 3D point is the frame's local point map at that pixel
// (the map is the frame resized to the model's input size), moved to world
// coordinates with the frame's worldFromCamera pose.

import type { GeometricEvidence, Marker } from '../../common/domain';

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
  local: [number, number, number];
  world: [number, number, number];
}

export function markedPoint(geometry: MarkerGeometry, marker: Marker): MarkedPoint | null {
  const n = geometry.frameIndices.indexOf(marker.frameIndex);
  if (n < 0) return null;
  const size = geometry.frameSizes[n];
  const { mapWidth, mapHeight } = geometry;
  const col = Math.min(mapWidth - 1, Math.max(0, Math.floor((marker.x / size.width) * mapWidth)));
  const row = Math.min(mapHeight - 1, Math.max(0, Math.floor((marker.y / size.height) * mapHeight)));
  const at = 3 * (n * mapWidth * mapHeight + row * mapWidth + col);
  const local: [number, number, number] = [
    geometry.localPointMaps[at],
    geometry.localPointMaps[at + 1],
    geometry.localPointMaps[at + 2],
  ];
  if (!local.every(Number.isFinite)) return null;
  const m = geometry.worldFromCamera.subarray(16 * n, 16 * n + 16);
  const world: [number, number, number] = [0, 1, 2].map(
    (r) => m[4 * r] * local[0] + m[4 * r + 1] * local[1] + m[4 * r + 2] * local[2] + m[4 * r + 3],
  ) as [number, number, number];
  return { marker, local, world };
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
