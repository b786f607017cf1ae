// Next-token choice. Greedy argmax is the official behaviour (model doc §3.2);
// temperature / top-k / top-p sampling is a studio option, reproducible through
// a seeded PRNG (mulberry32: tiny, fast, good enough for picking tokens).

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (0 / undefined = all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 / undefined = all). */
  topP?: number;
  seed?: number;
}

export function argmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    // Strictly greater: ties go to the lowest id, like torch.argmax.
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** mulberry32: uniform floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class TokenSampler {
  private readonly random: () => number;

  constructor(private readonly options: SamplingOptions = {}) {
    this.random = seededRandom(options.seed ?? 0);
  }

  get greedy(): boolean {
    return !(this.options.temperature && this.options.temperature > 0);
  }

  /** Picks the next token from one row of logits. */
  next(logits: ArrayLike<number>): number {
    if (this.greedy) return argmax(logits);
    const temperature = this.options.temperature as number;
    const n = logits.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
    const topK = this.options.topK && this.options.topK > 0 ? Math.min(this.options.topK, n) : n;
    const max = logits[order[0]];
    const weights: number[] = [];
    let total = 0;
    for (let i = 0; i < topK; i++) {
      const w = Math.exp((logits[order[i]] - max) / temperature);
      weights.push(w);
      total += w;
    }
    const topP = this.options.topP ?? 1;
    let kept = weights.length;
    if (topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < weights.length; i++) {
        cumulative += weights[i] / total;
        if (cumulative >= topP) {
          kept = i + 1;
          break;
        }
      }
    }
    let keptTotal = 0;
    for (let i = 0; i < kept; i++) keptTotal += weights[i];
    let r = this.random() * keptTotal;
    for (let i = 0; i < kept; i++) {
      r -= weights[i];
      if (r < 0) return order[i];
    }
    return order[kept - 1];
  }
}
