// Bit-exact re-implementation of Pillow's 8-bit `Image.resize` (ImagingResample in
// libImaging/Resample.c) for RGB images, for the two filters the official G2VLM
// pre-processing uses: LANCZOS (DINO input, model doc §2.1) and BICUBIC (Qwen2-VL
// input, §2.2). The model saw images produced by exactly this arithmetic, so the
// port reproduces it rather than using a "similar" resizer (doc §10.8).
//
// Pillow's algorithm, as re-derived here:
// * separable: a horizontal pass over the source rows the vertical pass needs,
//   then a vertical pass (always in that order; an axis whose size does not
//   change is skipped);
// * per output sample: centre = (i + 0.5)·scale, support = filter support ·
//   max(scale, 1), taps from round(centre − support) to round(centre + support),
//   weights filter((j − centre + 0.5) / max(scale, 1)) normalised to sum 1 (float64);
// * weights turned into fixed point with PRECISION_BITS = 32 − 8 − 2 = 22
//   (round half away from zero), accumulated on integers starting at half an
//   LSB, and the result floor-shifted and clipped to 0..255.

export type PilFilter = 'lanczos' | 'bicubic';

const PRECISION_BITS = 32 - 8 - 2;
const FIXED_ONE = 2 ** PRECISION_BITS;
const HALF_LSB = 2 ** (PRECISION_BITS - 1);

interface FilterKernel {
  weight: (x: number) => number;
  support: number;
}

function bicubicWeight(x: number): number {
  // Keys cubic convolution with a = -0.5 (PIL's choice, not OpenCV's -0.75).
  const a = -0.5;
  const t = x < 0 ? -x : x;
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczosWeight(x: number): number {
  // Truncated sinc with three lobes; the interval is half-open exactly as in PIL.
  if (x >= -3 && x < 3) return sinc(x) * sinc(x / 3);
  return 0;
}

const FILTERS: Record<PilFilter, FilterKernel> = {
  bicubic: { weight: bicubicWeight, support: 2 },
  lanczos: { weight: lanczosWeight, support: 3 },
};

/** Fixed-point taps of one axis: output i reads `count[i]` inputs from `first[i]`. */
export interface AxisCoefficients {
  tapsPerOutput: number;
  first: Int32Array;
  count: Int32Array;
  /** outSize × tapsPerOutput fixed-point weights (PRECISION_BITS fractional bits). */
  fixed: Int32Array;
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for a whole-image box. */
export function axisCoefficients(inSize: number, outSize: number, filter: PilFilter): AxisCoefficients {
  const kernel = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  const tapsPerOutput = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const fixed = new Int32Array(outSize * tapsPerOutput);
  const weights = new Float64Array(tapsPerOutput);
  const invFilterScale = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // C's (int) cast truncates toward zero; values below zero are clamped anyway.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const n = hi - lo;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const w = kernel.weight((j + lo - centre + 0.5) * invFilterScale);
      weights[j] = w;
      sum += w;
    }
    for (let j = 0; j < n; j++) {
      const w = sum !== 0 ? weights[j] / sum : weights[j];
      fixed[i * tapsPerOutput + j] = Math.trunc(w < 0 ? -0.5 + w * FIXED_ONE : 0.5 + w * FIXED_ONE);
    }
    first[i] = lo;
    count[i] = n;
  }
  return { tapsPerOutput, first, count, fixed };
}

function clip8(accumulator: number): number {
  // Arithmetic shift right by PRECISION_BITS (floor), then clamp — PIL's clip8 lookup.
  const v = Math.floor(accumulator / FIXED_ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resize an 8-bit RGB image (HWC, row-major) exactly like Pillow's
 * `Image.resize((dstWidth, dstHeight), LANCZOS | BICUBIC)` on an "RGB" image.
 */
export function resizeRgbLikePil(
  src: Uint8Array,
  width: number,
  height: number,
  dstWidth: number,
  dstHeight: number,
  filter: PilFilter,
): Uint8Array {
  if (src.length !== width * height * 3) {
    throw new RangeError(`resizeRgbLikePil: expected ${width * height * 3} bytes, got ${src.length}`);
  }
  if (dstWidth < 1 || dstHeight < 1) throw new RangeError('resizeRgbLikePil: empty target size');
  if (dstWidth === width && dstHeight === height) return src.slice();

  const needHorizontal = dstWidth !== width;
  const needVertical = dstHeight !== height;
  const vertical = axisCoefficients(height, dstHeight, filter);

  let rows = src;
  let rowsWidth = width;
  let rowOffset = 0; // source row that `rows` row 0 corresponds to
  if (needHorizontal) {
    // Only the source rows the vertical pass will read (PIL's ybox_first/ybox_last).
    const firstRow = vertical.first[0];
    const lastRow = vertical.first[dstHeight - 1] + vertical.count[dstHeight - 1];
    const horizontal = axisCoefficients(width, dstWidth, filter);
    rows = resampleRows(src, width, firstRow, lastRow, dstWidth, horizontal);
    rowsWidth = dstWidth;
    rowOffset = firstRow;
  }
  if (!needVertical) return rows;
  return resampleColumns(rows, rowsWidth, rowOffset, dstHeight, vertical);
}

function resampleRows(
  src: Uint8Array,
  width: number,
  firstRow: number,
  lastRow: number,
  dstWidth: number,
  coeffs: AxisCoefficients,
): Uint8Array {
  const outRows = lastRow - firstRow;
  const out = new Uint8Array(outRows * dstWidth * 3);
  const { tapsPerOutput, first, count, fixed } = coeffs;
  for (let y = 0; y < outRows; y++) {
    const srcRow = (y + firstRow) * width * 3;
    const dstRow = y * dstWidth * 3;
    for (let x = 0; x < dstWidth; x++) {
      const k0 = x * tapsPerOutput;
      const n = count[x];
      let p = srcRow + first[x] * 3;
      let r = HALF_LSB;
      let g = HALF_LSB;
      let b = HALF_LSB;
      for (let j = 0; j < n; j++, p += 3) {
        const w = fixed[k0 + j];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      const o = dstRow + x * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

function resampleColumns(
  src: Uint8Array,
  width: number,
  rowOffset: number,
  dstHeight: number,
  coeffs: AxisCoefficients,
): Uint8Array {
  const out = new Uint8Array(dstHeight * width * 3);
  const { tapsPerOutput, first, count, fixed } = coeffs;
  const stride = width * 3;
  for (let y = 0; y < dstHeight; y++) {
    const k0 = y * tapsPerOutput;
    const n = count[y];
    const base = (first[y] - rowOffset) * stride;
    const dstRow = y * stride;
    for (let c = 0; c < stride; c++) {
      let acc = HALF_LSB;
      let p = base + c;
      for (let j = 0; j < n; j++, p += stride) acc += src[p] * fixed[k0 + j];
      out[dstRow + c] = clip8(acc);
    }
  }
  return out;
}
