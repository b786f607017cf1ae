// Pose algebra for the camera exports. Inputs follow the engine: row-major 4x4
// worldFromCamera with OpenCV camera axes (x right, y down, z forward).

export function invertRigid(m: readonly number[]): number[] {
  // [R t; 0 1]⁻¹ = [Rᵀ −Rᵀt; 0 1]
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 4 + j] = m[j * 4 + i];
    out[i * 4 + 3] = -(m[0 * 4 + i] * m[3] + m[1 * 4 + i] * m[7] + m[2 * 4 + i] * m[11]);
  }
  out[15] = 1;
  return out;
}

export function multiply4(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  return out;
}

/**
 * Unit quaternion [w, x, y, z] of a row-major rotation (the upper-left 3x3 of
 * a 4x4 when `stride` is 4), w >= 0. Shepperd's method: pivot on the largest
 * of w², x², y², z² so no division by a small number.
 */
export function quaternionFromRotation(m: readonly number[], stride = 3): [number, number, number, number] {
  const r = (i: number, j: number): number => m[i * stride + j];
  const trace = r(0, 0) + r(1, 1) + r(2, 2);
  let w: number, x: number, y: number, z: number;
  if (trace > 0) {
    const s = 2 * Math.sqrt(1 + trace);
    w = s / 4;
    x = (r(2, 1) - r(1, 2)) / s;
    y = (r(0, 2) - r(2, 0)) / s;
    z = (r(1, 0) - r(0, 1)) / s;
  } else if (r(0, 0) > r(1, 1) && r(0, 0) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(0, 0) - r(1, 1) - r(2, 2));
    w = (r(2, 1) - r(1, 2)) / s;
    x = s / 4;
    y = (r(0, 1) + r(1, 0)) / s;
    z = (r(0, 2) + r(2, 0)) / s;
  } else if (r(1, 1) > r(2, 2)) {
    const s = 2 * Math.sqrt(1 + r(1, 1) - r(0, 0) - r(2, 2));
    w = (r(0, 2) - r(2, 0)) / s;
    x = (r(0, 1) + r(1, 0)) / s;
    y = s / 4;
    z = (r(1, 2) + r(2, 1)) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r(2, 2) - r(0, 0) - r(1, 1));
    w = (r(1, 0) - r(0, 1)) / s;
    x = (r(0, 2) + r(2, 0)) / s;
    y = (r(1, 2) + r(2, 1)) / s;
    z = s / 4;
  }
  const n = Math.hypot(w, x, y, z) * (w < 0 ? -1 : 1);
  return [w / n, x / n, y / n, z / n];
}

/** Row-major 3x3 rotation of a quaternion [w, x, y, z] (normalised first). */
export function rotationFromQuaternion(q: readonly number[]): number[] {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const [w, x, y, z] = [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
}

/**
 * nerfstudio / OpenGL camera-to-world from an OpenCV one: the camera's y and z
 * axes flip (y up, looking down −z), i.e. columns 1 and 2 of the rotation negate.
 */
export function openGlFromOpenCvCameraToWorld(worldFromCamera: readonly number[]): number[] {
  const out = worldFromCamera.slice();
  for (let r = 0; r < 3; r++) {
    out[r * 4 + 1] = -out[r * 4 + 1];
    out[r * 4 + 2] = -out[r * 4 + 2];
  }
  return out;
}

/** Whether the upper 3x3 is a rotation (orthonormal, det +1) within `tol`. */
export function isRigid(m: readonly number[], tol = 1e-3): boolean {
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = m[i] * m[j] + m[4 + i] * m[4 + j] + m[8 + i] * m[8 + j];
      if (Math.abs(dot - (i === j ? 1 : 0)) > tol) return false;
    }
  const det =
    m[0] * (m[5] * m[10] - m[6] * m[9]) -
    m[1] * (m[4] * m[10] - m[6] * m[8]) +
    m[2] * (m[4] * m[9] - m[5] * m[8]);
  return Math.abs(det - 1) <= tol && m[12] === 0 && m[13] === 0 && m[14] === 0 && m[15] === 1;
}
