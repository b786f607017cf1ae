// RoPE2D (frequency 100) of the geometry decoders (model doc §7.1): per head
// of width c, the first c/2 channels rotate with the patch row, the last c/2
// with the column; inside each half the usual rotate_half layout. Tables are
// full width (P, c) so the graph applies them with one multiply-add.

export function rope2dTables(
  gridH: number,
  gridW: number,
  headDim: number,
  base = 100,
): { cos: Float32Array; sin: Float32Array } {
  const d = headDim / 2;
  const quarter = d / 2;
  const inv = new Float32Array(quarter);
  for (let k = 0; k < quarter; k++)
    inv[k] = Math.fround(1 / Math.fround(Math.pow(base, Math.fround((2 * k) / d))));
  const P = gridH * gridW;
  const cos = new Float32Array(P * headDim);
  const sin = new Float32Array(P * headDim);
  for (let r = 0; r < gridH; r++) {
    for (let c = 0; c < gridW; c++) {
      const base0 = (r * gridW + c) * headDim;
      for (let j = 0; j < headDim; j++) {
        const pos = j < d ? r : c;
        const angle = Math.fround(pos * inv[j % quarter]);
        cos[base0 + j] = Math.cos(angle);
        sin[base0 + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}
