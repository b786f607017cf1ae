// Resampling of DINO's learned G×G position table to the patch grid (h, w)
// (model doc §4.2, pitfall 7): PyTorch `interpolate(bicubic, antialias=True,
// align_corners=False)` = a separable PIL-style filter — Keys cubic with
// a = −0.5, support stretched by the down-scale factor, weights normalised,
// sample centre (i + 0.5)·scale — computed here in float64. An axis whose
// size does not change is an exact identity.

function keysCubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** (outSize × inSize) row-major weights: out[i] = Σ_j W[i, j] · in[j]. */
export function antialiasedBicubicMatrix(inSize: number, outSize: number): Float64Array {
  const W = new Float64Array(outSize * inSize);
  if (inSize === outSize) {
    for (let i = 0; i < outSize; i++) W[i * inSize + i] = 1;
    return W;
  }
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const w: number[] = [];
    for (let j = xmin; j < xmax; j++) {
      const value = keysCubic((j - center + 0.5) * invScale);
      w.push(value);
      total += value;
    }
    for (let j = xmin; j < xmax; j++) W[i * inSize + j] = total !== 0 ? w[j - xmin] / total : 0;
  }
  return W;
}

export interface DinoPositionInputs {
  /** (h, G) */
  rows: Float32Array;
  /** (G, w): the column matrix transposed, as the graph multiplies on the right. */
  colsT: Float32Array;
}

export function dinoPositionInputs(gridSide: number, gridH: number, gridW: number): DinoPositionInputs {
  const rows = Float32Array.from(antialiasedBicubicMatrix(gridSide, gridH));
  const cols = antialiasedBicubicMatrix(gridSide, gridW);
  const colsT = new Float32Array(gridSide * gridW);
  for (let i = 0; i < gridW; i++)
    for (let j = 0; j < gridSide; j++) colsT[j * gridW + i] = cols[i * gridSide + j];
  return { rows, colsT };
}
