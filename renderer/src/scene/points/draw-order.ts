// The GPU holds the cloud in one random order, fixed at load: then the first K
// points of the buffer are a uniform random subsample of the whole cloud, and a
// point budget is just a shorter draw range (no second buffer, no re-upload).
//
// What is shuffled is short runs ("blocks") of consecutive stored points, not
// single points. Stored order is spatially coherent (a reconstruction writes
// depth maps row by row), and a rasteriser is faster on neighbouring points:
// shuffling single points made full frames 1.3–1.5× slower than the plain
// renderer on the same data (measured with SwiftShader). Runs of 16 keep that
// locality, and a budget of even 250k points still draws 15k+ random runs
// spread over the whole scene. Shuffling runs is also a near-sequential copy
// instead of 10M random reads at load.
//
// Masks and picks speak original (stored) indices; nothing outside this folder
// sees the draw order.

/** Visibility codes in the 1-byte-per-point attribute the shader reads. */
export const HIDDEN = 0;
export const SHOWN = 1;
export const HIGHLIGHTED = 2;

export const DEFAULT_BLOCK_SIZE = 16;

/** A small seeded generator (mulberry32): the same cloud gets the same order on every load. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A permutation of `count` points made of whole blocks of `blockSize`
 * consecutive points in uniformly random order (Fisher–Yates over blocks). A
 * last, shorter block stays at the end: it is drawn only when (nearly)
 * everything is.
 */
export class DrawOrder {
  readonly count: number;
  readonly blockSize: number;
  /** First original index of the block drawn b-th, for the full blocks. */
  readonly blockStarts: Uint32Array;

  constructor(count: number, options: { blockSize?: number; seed?: number } = {}) {
    const blockSize = Math.max(1, Math.floor(options.blockSize ?? DEFAULT_BLOCK_SIZE));
    const fullBlocks = Math.floor(count / blockSize);
    const starts = new Uint32Array(fullBlocks);
    for (let b = 0; b < fullBlocks; b++) starts[b] = b * blockSize;
    const random = seededRandom(options.seed ?? 1);
    for (let b = fullBlocks - 1; b > 0; b--) {
      const j = Math.floor(random() * (b + 1));
      const swap = starts[b];
      starts[b] = starts[j];
      starts[j] = swap;
    }
    this.count = count;
    this.blockSize = blockSize;
    this.blockStarts = starts;
  }

  /** The stored index of the point drawn in `slot`. */
  originalIndex(slot: number): number {
    const block = Math.floor(slot / this.blockSize);
    return block < this.blockStarts.length ? this.blockStarts[block] + (slot % this.blockSize) : slot; // the tail block is in place
  }

  /** `source` (itemSize values per point, stored order) rearranged into draw order. */
  gather<T extends Float32Array | Uint8Array>(source: T, itemSize: number, out: T): T {
    const run = this.blockSize * itemSize;
    const starts = this.blockStarts;
    for (let b = 0; b < starts.length; b++) {
      const from = starts[b] * itemSize;
      const to = b * run;
      for (let k = 0; k < run; k++) out[to + k] = source[from + k];
    }
    const tail = starts.length * run;
    for (let k = tail; k < this.count * itemSize; k++) out[k] = source[k];
    return out;
  }

  /**
   * The visibility attribute (draw order) from masks in stored order: hidden
   * where `keep` is 0, highlighted where `highlight` is non-zero (hidden wins).
   * Either mask may be null (everything kept / nothing highlighted).
   */
  writeVisibility(keep: Uint8Array | null, highlight: Uint8Array | null, out: Uint8Array): Uint8Array {
    const count = this.count;
    if (keep && keep.length !== count)
      throw new RangeError(`keep mask has ${keep.length} entries for ${count} points`);
    if (highlight && highlight.length !== count)
      throw new RangeError(`highlight mask has ${highlight.length} entries for ${count} points`);
    if (!keep && !highlight) return out.fill(SHOWN, 0, count);
    const size = this.blockSize;
    const starts = this.blockStarts;
    const code = (point: number) =>
      keep && keep[point] === 0 ? HIDDEN : highlight && highlight[point] !== 0 ? HIGHLIGHTED : SHOWN;
    for (let b = 0; b < starts.length; b++) {
      const from = starts[b];
      const to = b * size;
      for (let k = 0; k < size; k++) out[to + k] = code(from + k);
    }
    for (let slot = starts.length * size; slot < count; slot++) out[slot] = code(slot);
    return out;
  }
}
