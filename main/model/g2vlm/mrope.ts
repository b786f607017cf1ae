// M-RoPE of the Qwen2-VL LLM (model doc §5.2–5.3) and the position counter.
// The sections [16, 24, 24] are hard-coded by the official attention
// constructor (pitfall 2), hence head dim 128; the config value is ignored.
// Angles are float32 products of float32 inv_freq and the position, exactly as
// PyTorch computes them (large positions are sensitive to this).

export const MROPE_SECTION = [16, 24, 24] as const;

export function mropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    inv[i] = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
  }
  return inv;
}

/**
 * cos/sin of shape (1, L, hd/2) for positions given as 3×L row-major
 * (t row, h row, w row): the first half of `cat(angle, angle)`, each
 * frequency taking its position row from its section (t, h, w).
 */
export function mropeCosSin(
  positions: Int32Array,
  length: number,
  headDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  if (headDim !== 128) throw new Error(`M-RoPE sections [16, 24, 24] need head dim 128 (got ${headDim})`);
  const half = headDim / 2;
  const inv = mropeInvFreq(headDim, theta);
  const rowOf = new Uint8Array(half);
  for (let j = 0; j < half; j++)
    rowOf[j] = j < MROPE_SECTION[0] ? 0 : j < MROPE_SECTION[0] + MROPE_SECTION[1] ? 1 : 2;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let l = 0; l < length; l++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(positions[rowOf[j] * length + l] * inv[j]);
      cos[l * half + j] = Math.cos(angle);
      sin[l * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Builds 3×L position blocks and advances the running counter (doc §5.2, pitfall 3). */
export class PositionCounter {
  constructor(public next = 0) {}

  /** Text / special tokens: (p, p, p), p += 1 each. */
  text(count: number): Int32Array {
    const out = new Int32Array(3 * count);
    for (let i = 0; i < count; i++) {
      out[i] = out[count + i] = out[2 * count + i] = this.next + i;
    }
    this.next += count;
    return out;
  }

  /** Image grid h×w (row-major): (p, p + r, p + c); then p += max(h, w). */
  grid(h: number, w: number): Int32Array {
    const n = h * w;
    const out = new Int32Array(3 * n);
    const p = this.next;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const i = r * w + c;
        out[i] = p;
        out[n + i] = p + r;
        out[2 * n + i] = p + c;
      }
    }
    this.next += Math.max(h, w);
    return out;
  }
}

/** Concatenates 3×L position blocks. */
export function concatPositions(blocks: Int32Array[]): Int32Array {
  const lengths = blocks.map((b) => b.length / 3);
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = new Int32Array(3 * total);
  let offset = 0;
  blocks.forEach((b, k) => {
    const n = lengths[k];
    for (let row = 0; row < 3; row++) out.set(b.subarray(row * n, (row + 1) * n), row * total + offset);
    offset += n;
  });
  return out;
}
