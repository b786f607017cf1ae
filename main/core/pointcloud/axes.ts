// Axis conventions at the file edges.
//
// The engine's world uses OpenCV axes (x right, y down, z forward); glTF is
// y up with cameras looking down -z. Exporting applies `gltfWorldFromOpenCvWorld`,
// a 180° rotation about the x axis (y -> -y, z -> -z), to every point and
// camera, so a scene shot upright shows upright in any glTF viewer; importing a
// glTF applies the same rotation again (it is its own inverse). PLY stays in
// OpenCV axes, as the model predicts and as COLMAP/Open3D users expect.
//
// A camera's own axes need the same flip: an OpenCV camera looks along +z with
// y down, a glTF camera looks along -z with y up. So a glTF camera node is
//   gltfWorldFromGltfCamera = R_x(180°) · worldFromCamera · R_x(180°).

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
