// The studio stores geometry in the OpenCV camera convention the model predicts
// (x right, y down, z forward). three.js is y up with cameras looking down -z.
// The two differ by a rotation of 180° about the x axis: (x, y, z) -> (x, -y, -z).
// The viewer applies it once, to the root group that holds the cloud and the
// cameras, so everything inside stays in stored (OpenCV) coordinates.

import { Matrix4, Vector3 } from 'three';

/** Euler angles of the OpenCV -> three.js rotation: 180° about x. */
export const THREE_FROM_OPENCV_EULER: [number, number, number] = [Math.PI, 0, 0];

export function threeFromOpenCvPoint([x, y, z]: readonly [number, number, number]): Vector3 {
  return new Vector3(x, -y, -z);
}

/** A row-major 4x4 (as stored: worldFromCamera) as a three.js matrix. */
export function matrixFromRowMajor(values: readonly number[]): Matrix4 {
  const m = new Matrix4();
  // Matrix4.set takes its arguments in row-major order.
  m.set(...(values.slice(0, 16) as Parameters<Matrix4['set']>));
  return m;
}
