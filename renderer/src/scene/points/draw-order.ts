// The GPU holds the cloud in one random order, fixed at load: then the first K
// points of the buffer are a uniform random subsample of the whole cloud, and a
// point budget is just a shorter draw range (no second buffer, no re-upload).
// `order[slot]` is the original index of the point drawn in `slot`; masks and
// picks speak original indices, so everything outside this folder never sees
// the shuffled order.

/** Visibility codes in the 1-byte-per-point attribute the shader reads. */
export const HIDDEN = 0;
export const SHOWN = 1;
export const HIGHLIGHTED = 2;

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

/** A uniformly random permutation of 0..count-1 (Fisher–Yates). */
export function randomDrawOrder(count: number, seed = 1): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const random = seededRandom(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/** `source` (itemSize values per point, original order) rearranged into draw order. */
export function gatherInDrawOrder<T extends Float32Array | Uint8Array>(
  source: T,
  itemSize: number,
  order: Uint32Array,
  out: T,
): T {
  const count = order.length;
  if (itemSize === 3) {
    for (let slot = 0; slot < count; slot++) {
      const from = order[slot] * 3;
      const to = slot * 3;
      out[to] = source[from];
      out[to + 1] = source[from + 1];
      out[to + 2] = source[from + 2];
    }
  } else {
    for (let slot = 0; slot < count; slot++) {
      for (let k = 0; k < itemSize; k++) out[slot * itemSize + k] = source[order[slot] * itemSize + k];
    }
  }
  return out;
}

/**
 * The visibility attribute (draw order) from masks in original order: hidden
 * where `keep` is 0, highlighted where `highlight` is non-zero (hidden wins).
 * Either mask may be null (everything kept / nothing highlighted).
 */
export function writeVisibility(
  order: Uint32Array,
  keep: Uint8Array | null,
  highlight: Uint8Array | null,
  out: Uint8Array,
): Uint8Array {
  const count = order.length;
  if (keep && keep.length !== count)
    throw new RangeError(`keep mask has ${keep.length} entries for ${count} points`);
  if (highlight && highlight.length !== count)
    throw new RangeError(`highlight mask has ${highlight.length} entries for ${count} points`);
  if (!keep && !highlight) {
    out.fill(SHOWN);
    return out;
  }
  for (let slot = 0; slot < count; slot++) {
    const point = order[slot];
    out[slot] =
      keep && keep[point] === 0 ? HIDDEN : highlight && highlight[point] !== 0 ? HIGHLIGHTED : SHOWN;
  }
  return out;
}
