// Axis conventions at the file edges.
//
// The engine's world uses OpenCV axes (x right, y down, z forward); glTF is
// y up with cameras looking down -z. Exporting applies `gltfWorldFromOpenCvWorld`,
// a 180° rotation about the x axis (y -> -y, z -> -z), to every point and
// camera, so a scene shot upright shows upright in any glTF viewer; importing a
// glTF applies the same rotation again (it is its own inverse). PLY stays in
// OpenCV axes, as the model predicts and as COLMAP/Open3D users expect, unless
// the user asks for y-up or z-up (openCvToUpAxis below).
//
// A camera's own axes need the same flip: an OpenCV camera looks along +z with
// y down, a glTF camera looks along -z with y up. So a glTF camera node is
//   gltfWorldFromGltfCamera = R_x(180°) · worldFromCamera · R_x(180°).

import type { UpAxis } from '../../common/export-axes';

/** R_x(180°) applied to a point: (x, y, z) -> (x, -y, -z). Its own inverse. */
export function rotateX180InPlace(positions: Float32Array, from = 0, to = positions.length): void {
  for (let i = from + 1; i < to; i += 3) {
    positions[i] = -positions[i];
    positions[i + 1] = -positions[i + 1];
  }
}

/**
 * glTF node matrix (column-major, as glTF stores it) for a camera given as a
 * row-major 4x4 worldFromCamera in OpenCV axes.
 */
export function gltfCameraMatrix(worldFromCameraRowMajor: number[]): number[] {
  if (worldFromCameraRowMajor.length !== 16) throw new Error('worldFromCamera must have 16 numbers');
  // R·W·R with R = diag(1,-1,-1,1): element (r, c) is scaled by sign(r)·sign(c).
  const sign = [1, -1, -1, 1];
  const columnMajor = new Array<number>(16);
  for (let row = 0; row < 4; row++)
    for (let col = 0; col < 4; col++)
      columnMajor[col * 4 + row] = sign[row] * sign[col] * worldFromCameraRowMajor[row * 4 + col];
  return columnMajor;
}

// Which way is up in an exported file: the names and their words are in
// main/common/export-axes.ts (shared with the API, the CLI and the Export menu).
export { UP_AXES, UP_AXIS_DESCRIPTIONS, type UpAxis } from '../../common/export-axes';

/**
 * Writes OpenCV-world point (x, y, z) in `up` axes into out[at..at+2].
 * Each case is a rotation, so distances and handedness are kept.
 */
export function openCvToUpAxis(
  up: UpAxis,
  x: number,
  y: number,
  z: number,
  out: Float32Array,
  at: number,
): void {
  if (up === 'opencv') {
    out[at] = x;
    out[at + 1] = y;
    out[at + 2] = z;
  } else if (up === 'y-up') {
    out[at] = x;
    out[at + 1] = -y;
    out[at + 2] = -z;
  } else {
    out[at] = x;
    out[at + 1] = z;
    out[at + 2] = -y;
  }
}

/** The inverse of openCvToUpAxis, in place over a whole positions array. */
export function upAxisToOpenCvInPlace(up: UpAxis, positions: Float32Array): void {
  if (up === 'opencv') return;
  if (up === 'y-up') {
    rotateX180InPlace(positions);
    return;
  }
  for (let i = 0; i < positions.length; i += 3) {
    const y = positions[i + 1];
    const z = positions[i + 2];
    positions[i + 1] = -z; // file (x, y=fwd, z=up) = OpenCV (x, z, -y)
    positions[i + 2] = y;
  }
}
