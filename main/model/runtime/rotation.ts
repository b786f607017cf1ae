// Camera rotation from the head's raw 9 values (model doc §7.4, pitfall 12):
// normalise each ROW of the 3×3 matrix m, take A = mᵀ, SVD A = U S Vᵀ and
// R = V · diag(1, 1, det(V Uᵀ)) · Uᵀ — the rotation nearest to the
// row-normalised m. A small exact one-sided Jacobi SVD in float64.

/** 3×3 row-major SVD: A = U · diag(s) · Vᵀ, singular values descending. */
export function svd3(A: ArrayLike<number>): { U: Float64Array; s: Float64Array; V: Float64Array } {
  // One-sided Jacobi (Hestenes): rotate column pairs of W = A·V until orthogonal.
  const W = Float64Array.from(A as ArrayLike<number>);
  const V = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < 3; i++) {
          const wp = W[i * 3 + p];
          const wq = W[i * 3 + q];
          alpha += wp * wp;
          beta += wq * wq;
          gamma += wp * wq;
        }
        if (Math.abs(gamma) <= 1e-300 || Math.abs(gamma) <= 1e-17 * Math.sqrt(alpha * beta)) continue;
        off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < 3; i++) {
          const wp = W[i * 3 + p];
          const wq = W[i * 3 + q];
          W[i * 3 + p] = c * wp - s * wq;
          W[i * 3 + q] = s * wp + c * wq;
          const vp = V[i * 3 + p];
          const vq = V[i * 3 + q];
          V[i * 3 + p] = c * vp - s * vq;
          V[i * 3 + q] = s * vp + c * vq;
        }
      }
    }
    if (off < 1e-16) break;
  }
  const norms = [0, 1, 2].map((j) => Math.hypot(W[j], W[3 + j], W[6 + j]));
  const order = [0, 1, 2].sort((a, b) => norms[b] - norms[a]);
  const U = new Float64Array(9);
  const Vs = new Float64Array(9);
  const s = new Float64Array(3);
  order.forEach((j, k) => {
    s[k] = norms[j];
    for (let i = 0; i < 3; i++) {
      Vs[i * 3 + k] = V[i * 3 + j];
      U[i * 3 + k] = norms[j] > 0 ? W[i * 3 + j] / norms[j] : 0;
    }
  });
  // A rank-deficient A leaves a zero U column: complete it to an orthonormal basis.
  if (s[2] === 0) {
    const [a, b] = [0, 1].map((k) => [U[k], U[3 + k], U[6 + k]]);
    const cross = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    for (let i = 0; i < 3; i++) U[i * 3 + 2] = cross[i];
  }
  return { U, s, V: Vs };
}

function det3(M: ArrayLike<number>): number {
  return (
    M[0] * (M[4] * M[8] - M[5] * M[7]) -
    M[1] * (M[3] * M[8] - M[5] * M[6]) +
    M[2] * (M[3] * M[7] - M[4] * M[6])
  );
}

/** Row-major 3×3 rotation from the camera head's raw 9 values. */
export function rotationFromRaw9(raw: ArrayLike<number>): Float64Array {
  const m = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    const norm = Math.max(Math.hypot(raw[r * 3], raw[r * 3 + 1], raw[r * 3 + 2]), 1e-12);
    for (let c = 0; c < 3; c++) m[r * 3 + c] = raw[r * 3 + c] / norm;
  }
  const A = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) A[r * 3 + c] = m[c * 3 + r];
  const { U, V } = svd3(A);
  // det(V Uᵀ) = det(V) · det(U)
  const d = det3(V) * det3(U);
  const R = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      R[i * 3 + j] = V[i * 3] * U[j * 3] + V[i * 3 + 1] * U[j * 3 + 1] + d * V[i * 3 + 2] * U[j * 3 + 2];
    }
  }
  return R;
}

/** N×4×4 camera-to-world poses (row-major) from N×9 raw rotations and N×3 translations. */
export function posesFromHead(rot9: ArrayLike<number>, t: ArrayLike<number>, frames: number): Float32Array {
  const poses = new Float32Array(frames * 16);
  for (let n = 0; n < frames; n++) {
    const R = rotationFromRaw9(Array.from({ length: 9 }, (_, k) => rot9[n * 9 + k]));
    const P = poses.subarray(n * 16, (n + 1) * 16);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) P[r * 4 + c] = R[r * 3 + c];
      P[r * 4 + 3] = t[n * 3 + r];
    }
    P[15] = 1;
  }
  return poses;
}

/** World points = R · local + t per pixel, each frame with its own pose. */
export function worldPointsFromLocal(local: Float32Array, poses: Float32Array, frames: number): Float32Array {
  const out = new Float32Array(local.length);
  const perFrame = local.length / frames;
  for (let n = 0; n < frames; n++) {
    const P = poses.subarray(n * 16, n * 16 + 16);
    const end = (n + 1) * perFrame;
    for (let i = n * perFrame; i < end; i += 3) {
      const x = local[i];
      const y = local[i + 1];
      const z = local[i + 2];
      out[i] = P[0] * x + P[1] * y + P[2] * z + P[3];
      out[i + 1] = P[4] * x + P[5] * y + P[6] * z + P[7];
      out[i + 2] = P[8] * x + P[9] * y + P[10] * z + P[11];
    }
  }
  return out;
}
