// How big a scene is, for framing it and sizing camera frustums. Reconstructed
// clouds carry far outliers (sky, depth edges, a model guessing), so the extent
// is taken between the 2nd and 98th percentile of the points on each axis, not
// from the raw bounds; camera centres are always included.

import { Box3, Vector3, type BufferGeometry } from 'three';
import type { SceneDetail } from '../../../main/common/domain';
import { matrixFromRowMajor, threeFromOpenCvPoint } from './opencv-axes';

/** Enough points for stable percentiles without sorting millions of values. */
const SAMPLE_POINTS = 50_000;
const LOW_QUANTILE = 0.02;
const HIGH_QUANTILE = 0.98;

function quantiles(values: Float32Array): [number, number] {
  values.sort();
  const at = (q: number) =>
    values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))];
  return [at(LOW_QUANTILE), at(HIGH_QUANTILE)];
}

/** Robust bounds of the points, in stored (OpenCV) coordinates. */
export function robustPointBounds(positions: ArrayLike<number>): { min: Vector3; max: Vector3 } | null {
  const count = Math.floor(positions.length / 3);
  if (count === 0) return null;
  const stride = Math.max(1, Math.floor(count / SAMPLE_POINTS));
  const samples = Math.ceil(count / stride);
  const axes = [new Float32Array(samples), new Float32Array(samples), new Float32Array(samples)];
  let n = 0;
  for (let i = 0; i < count; i += stride, n++) {
    axes[0][n] = positions[i * 3];
    axes[1][n] = positions[i * 3 + 1];
    axes[2][n] = positions[i * 3 + 2];
  }
  const [x, y, z] = axes.map((axis) => quantiles(axis.subarray(0, n).filter(Number.isFinite)));
  return { min: new Vector3(x[0], y[0], z[0]), max: new Vector3(x[1], y[1], z[1]) };
}

/** The scene's extent in three.js coordinates. */
export function sceneBoxThree(scene: SceneDetail, geometry: BufferGeometry | null): Box3 | null {
  const box = new Box3();
  const positions = geometry?.getAttribute('position')?.array;
  const robust = positions ? robustPointBounds(positions) : null;
  if (robust) {
    box.expandByPoint(threeFromOpenCvPoint(robust.min.toArray()));
    box.expandByPoint(threeFromOpenCvPoint(robust.max.toArray()));
  } else if (scene.bounds) {
    box.expandByPoint(threeFromOpenCvPoint(scene.bounds.min));
    box.expandByPoint(threeFromOpenCvPoint(scene.bounds.max));
  }
  for (const camera of scene.cameras) {
    const centre = new Vector3().setFromMatrixPosition(matrixFromRowMajor(camera.worldFromCamera));
    box.expandByPoint(threeFromOpenCvPoint(centre.toArray()));
  }
  return box.isEmpty() ? null : box;
}
