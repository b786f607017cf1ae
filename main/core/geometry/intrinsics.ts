// Pinhole intrinsics recovered from a frame's local point map. G2VLM predicts a
// pixel-aligned point map in the frame's own camera (OpenCV axes) but no
// intrinsics, so we fit them: a pinhole camera maps (x, y, z) to
//   u = fx * x / z + cx,   v = fy * y / z + cy.
// With the principal point fixed at the image centre (the model's training
// crops are centred), fx and fy each have a closed-form least-squares fit:
//   fx = Σ (u - cx)(x/z) / Σ (x/z)²   (and likewise for fy).
// Pixel (col, row) is sampled at its centre, u = col + 0.5, v = row + 0.5.

export interface PinholeIntrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

/** Points closer than this (model units) carry no usable direction. */
const MIN_DEPTH = 1e-6;

/**
 * Fit fx, fy for one frame. `localPoints` holds `width * height` xyz triples
 * starting at `offset` (row-major). Returns null when too few points are in
 * front of the camera to fit.
 */
export function estimateIntrinsics(
  localPoints: Float32Array,
  width: number,
  height: number,
  offset = 0,
): PinholeIntrinsics | null {
  const cx = width / 2;
  const cy = height / 2;
  let sumUX = 0,
    sumXX = 0,
    sumVY = 0,
    sumYY = 0,
    used = 0;
  for (let row = 0; row < height; row++) {
    const v = row + 0.5 - cy;
    for (let col = 0; col < width; col++) {
      const at = offset + 3 * (row * width + col);
      const x = localPoints[at],
        y = localPoints[at + 1],
        z = localPoints[at + 2];
      if (!(z > MIN_DEPTH) || !Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
      const xn = x / z;
      const yn = y / z;
      const u = col + 0.5 - cx;
      sumUX += u * xn;
      sumXX += xn * xn;
      sumVY += v * yn;
      sumYY += yn * yn;
      used++;
    }
  }
  if (used < 16 || sumXX <= 0 || sumYY <= 0) return null;
  const fx = sumUX / sumXX;
  const fy = sumVY / sumYY;
  if (!(fx > 0) || !(fy > 0) || !Number.isFinite(fx) || !Number.isFinite(fy)) return null;
  return { fx, fy, cx, cy, width, height };
}
