// A marker placed in 3D (a picked point of the cloud) becomes a marker on one
// frame, because the model reads markers drawn on images (as its training data
// marks objects). A point picked from the cloud is some frame's map pixel: that
// pixel, found exactly, is the marker. Any other point (e.g. of a voxel
// downsampled cloud) is projected into every reconstructed frame with that
// frame's pose and fitted intrinsics; a frame counts only if the point is in
// front of the camera, inside the image and not hidden — the frame's own point
// map at that pixel must be at about the same depth. Of those frames the one
// that sees the point nearest its image centre wins.

import type { CameraInfo, Marker, MarkerColor } from '../../common/domain';
import { invertRigid } from '../../base/camera-math';
import type { MarkerGeometry } from './marker-evidence';
import type { Vec3 } from './measure';

/** Depth agreement (relative) for "the frame sees this point, not something in front of it". */
const DEPTH_TOLERANCE = 0.05;

export interface PointMarker {
  color: MarkerColor;
  /** Scene units, the stored OpenCV world. */
  point: Vec3;
}

/** The map pixel whose world point is `point` (float32-exact up to rounding), if any. */
function pixelOfPoint(point: Vec3, geometry: MarkerGeometry): { n: number; col: number; row: number } | null {
  const { mapWidth: W, mapHeight: H, localPointMaps: local } = geometry;
  const tolerance = 1e-5 * Math.max(1, Math.abs(point[0]), Math.abs(point[1]), Math.abs(point[2]));
  for (let n = 0; n < geometry.frameIndices.length; n++) {
    const m = geometry.worldFromCamera.subarray(16 * n, 16 * n + 16);
    for (let p = 0; p < W * H; p++) {
      const at = 3 * (n * W * H + p);
      const x = local[at],
        y = local[at + 1],
        z = local[at + 2];
      if (Math.abs(m[0] * x + m[1] * y + m[2] * z + m[3] - point[0]) > tolerance) continue;
      if (Math.abs(m[4] * x + m[5] * y + m[6] * z + m[7] - point[1]) > tolerance) continue;
      if (Math.abs(m[8] * x + m[9] * y + m[10] * z + m[11] - point[2]) > tolerance) continue;
      return { n, col: p % W, row: Math.floor(p / W) };
    }
  }
  return null;
}

export function frameMarkerForPoint(
  marker: PointMarker,
  geometry: MarkerGeometry,
  cameras: CameraInfo[],
): Marker | null {
  const { mapWidth: W, mapHeight: H } = geometry;
  const exact = pixelOfPoint(marker.point, geometry);
  if (exact) {
    const size = geometry.frameSizes[exact.n];
    return {
      color: marker.color,
      frameIndex: geometry.frameIndices[exact.n],
      x: ((exact.col + 0.5) / W) * size.width,
      y: ((exact.row + 0.5) / H) * size.height,
    };
  }
  let best: { marker: Marker; offCentre: number } | null = null;
  geometry.frameIndices.forEach((frameIndex, n) => {
    const k = cameras.find((c) => c.frameIndex === frameIndex)?.intrinsics;
    if (!k) return;
    const pose = Array.from(geometry.worldFromCamera.subarray(16 * n, 16 * n + 16));
    const m = invertRigid(pose);
    const [x, y, z] = marker.point;
    const cx = m[0] * x + m[1] * y + m[2] * z + m[3];
    const cy = m[4] * x + m[5] * y + m[6] * z + m[7];
    const cz = m[8] * x + m[9] * y + m[10] * z + m[11];
    if (!(cz > 0)) return;
    // Intrinsics are in map pixels with pixel centres at +0.5 (geometry/intrinsics.ts).
    const u = (k.fx * cx) / cz + k.cx,
      v = (k.fy * cy) / cz + k.cy;
    if (!(u >= 0 && v >= 0 && u < W && v < H)) return;
    const at = 3 * ((n * H + Math.floor(v)) * W + Math.floor(u));
    const mapDepth = geometry.localPointMaps[at + 2];
    if (!Number.isFinite(mapDepth) || Math.abs(mapDepth - cz) > DEPTH_TOLERANCE * cz) return;
    const size = geometry.frameSizes[n];
    const offCentre = Math.hypot(u / W - 0.5, v / H - 0.5);
    if (best && best.offCentre <= offCentre) return;
    best = {
      offCentre,
      // The map is the displayed frame resized (no crop), so pixels scale per axis.
      marker: { color: marker.color, frameIndex, x: (u / W) * size.width, y: (v / H) * size.height },
    };
  });
  return (best as { marker: Marker } | null)?.marker ?? null;
}
