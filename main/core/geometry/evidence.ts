// Geometric evidence for spatial questions, computed from a reconstruction (not
// from the language model): distances between marked points, depth of a point
// from a camera, which of two points is closer, and answers rescaled by a
// distance the user knows. Every result says it was computed and how, so the
// studio can show it beside (never instead of) the model's answer.
//
// Conventions (main/model/engine/engine-types.ts): OpenCV camera axes (x right,
// y down, z forward); `worldFromCamera` N×4×4 row-major camera-to-world; local
// point maps N×H×W×3 in each frame's own camera. Reconstructions are up to scale
// ("model units") until a known distance fixes the scale.

export interface ReconstructionGeometry {
  frameCount: number;
  width: number;
  height: number;
  worldFromCamera: Float32Array;
  localPoints: Float32Array;
}

/** A pixel of a frame's point map (map pixels: the model's W×H grid, e.g. 518×294). */
export interface MarkedPixel {
  frame: number;
  x: number;
  y: number;
}

export interface ComputedEvidence {
  label: string;
  value: number;
  unit: 'model units' | 'metres' | 'ratio';
  computed: true;
  method: string;
}

export type Vec3 = [number, number, number];

/** Image pixel (e.g. of the original photo) → point-map pixel, pixel centres aligned. */
export function mapPixelFromImage(
  x: number,
  y: number,
  imageWidth: number,
  imageHeight: number,
  mapWidth: number,
  mapHeight: number,
): { x: number; y: number } {
  return {
    x: Math.min(mapWidth - 1, Math.max(0, Math.round(((x + 0.5) * mapWidth) / imageWidth - 0.5))),
    y: Math.min(mapHeight - 1, Math.max(0, Math.round(((y + 0.5) * mapHeight) / imageHeight - 0.5))),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The camera-frame 3-D point under a marked pixel: the per-axis median of the
 * finite points in a (2r+1)² window (a marker covers ~40 px; single pixels at
 * object edges are noisy).
 */
export function cameraPointAt(geometry: ReconstructionGeometry, pixel: MarkedPixel, windowRadius = 2): Vec3 {
  const { width, height, frameCount, localPoints } = geometry;
  if (pixel.frame < 0 || pixel.frame >= frameCount)
    throw new RangeError(`frame ${pixel.frame} is not in the reconstruction`);
  const xs: number[] = [];
  const ys: number[] = [];
  const zs: number[] = [];
  const base = pixel.frame * width * height;
  for (let dy = -windowRadius; dy <= windowRadius; dy++) {
    for (let dx = -windowRadius; dx <= windowRadius; dx++) {
      const x = Math.round(pixel.x) + dx;
      const y = Math.round(pixel.y) + dy;
      if (x < 0 || y < 0 || x >= width || y >= height) continue;
      const o = (base + y * width + x) * 3;
      const p = [localPoints[o], localPoints[o + 1], localPoints[o + 2]];
      if (p.every(Number.isFinite)) {
        xs.push(p[0]);
        ys.push(p[1]);
        zs.push(p[2]);
      }
    }
  }
  if (xs.length === 0)
    throw new RangeError(`no valid 3-D point near pixel (${pixel.x}, ${pixel.y}) of frame ${pixel.frame}`);
  return [median(xs), median(ys), median(zs)];
}

/** camera-to-world of a frame applied to a camera-frame point. */
export function toWorld(geometry: ReconstructionGeometry, frame: number, p: Vec3): Vec3 {
  const m = geometry.worldFromCamera.subarray(frame * 16, frame * 16 + 16);
  return [
    m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
    m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
    m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11],
  ];
}

/** A world point in a frame's camera coordinates (inverse of a rigid camera-to-world). */
export function toCamera(geometry: ReconstructionGeometry, frame: number, p: Vec3): Vec3 {
  const m = geometry.worldFromCamera.subarray(frame * 16, frame * 16 + 16);
  const d = [p[0] - m[3], p[1] - m[7], p[2] - m[11]];
  // Rᵀ·(p − t): the rotation block is orthonormal (camera head, model doc §7.4).
  return [
    m[0] * d[0] + m[4] * d[1] + m[8] * d[2],
    m[1] * d[0] + m[5] * d[1] + m[9] * d[2],
    m[2] * d[0] + m[6] * d[1] + m[10] * d[2],
  ];
}

export function worldPointAt(geometry: ReconstructionGeometry, pixel: MarkedPixel): Vec3 {
  return toWorld(geometry, pixel.frame, cameraPointAt(geometry, pixel));
}

function length(v: Vec3): number {
  return Math.hypot(v[0], v[1], v[2]);
}

/** Straight-line distance between two marked points (they may be in different frames). */
export function distanceBetween(
  geometry: ReconstructionGeometry,
  a: MarkedPixel,
  b: MarkedPixel,
): ComputedEvidence {
  const pa = worldPointAt(geometry, a);
  const pb = worldPointAt(geometry, b);
  return {
    label: 'distance between the two marked points',
    value: length([pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]]),
    unit: 'model units',
    computed: true,
    method:
      'world points of the reconstruction (median of a 5×5 window under each marker), Euclidean distance',
  };
}

/** Depth (distance along the optical axis) of a marked point from a frame's camera. */
export function depthFromCamera(
  geometry: ReconstructionGeometry,
  point: MarkedPixel,
  cameraFrame = point.frame,
): ComputedEvidence {
  const z = toCamera(geometry, cameraFrame, worldPointAt(geometry, point))[2];
  return {
    label: `depth of the marked point from camera ${cameraFrame}`,
    value: z,
    unit: 'model units',
    computed: true,
    method: 'z of the world point in that camera frame (OpenCV axes)',
  };
}

/** Which of two marked points is closer to a camera (by depth). */
export function closerToCamera(
  geometry: ReconstructionGeometry,
  a: MarkedPixel,
  b: MarkedPixel,
  cameraFrame = a.frame,
): { closer: 'a' | 'b'; depthA: ComputedEvidence; depthB: ComputedEvidence } {
  const depthA = depthFromCamera(geometry, a, cameraFrame);
  const depthB = depthFromCamera(geometry, b, cameraFrame);
  return { closer: depthA.value <= depthB.value ? 'a' : 'b', depthA, depthB };
}

/**
 * Converts a measurement to metres with one known metric quantity measured the
 * same way (e.g. "the table is 2.6 m away": known = 2.6, reference = the
 * table's depth in model units). Reconstructions are correct up to one scale.
 */
export function scaledByKnown(
  measurement: ComputedEvidence,
  reference: ComputedEvidence,
  knownMetres: number,
): ComputedEvidence {
  if (!(reference.value > 0) || !(knownMetres > 0))
    throw new RangeError('the reference and the known value must be positive');
  return {
    label: `${measurement.label} (scaled by a known ${knownMetres} m)`,
    value: (measurement.value * knownMetres) / reference.value,
    unit: 'metres',
    computed: true,
    method: `${measurement.method}; scale = ${knownMetres} m / ${reference.value.toPrecision(4)} model units (${reference.label})`,
  };
}
