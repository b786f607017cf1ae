// How far a quantised model's answers are from float32's: teacher-forced on the
// float32 run's decode inputs, the share of steps whose top-1 token agrees and
// the largest logit difference (the chat rows of BENCHMARKS.md's accuracy table).

export interface ChatAccuracy {
  steps: number;
  /** Steps whose argmax equals the reference's, as a fraction. */
  top1Agreement: number;
  /** max |logit − logit_fp32| over every step and vocabulary entry. */
  maxLogitDiff: number;
  /** The reference's logit range (max − min over all steps), to read the difference against. */
  referenceLogitRange: number;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Both arguments are steps × vocab float32 logits of the same teacher-forced inputs. */
export function chatAccuracy(logits: Float32Array, reference: Float32Array, vocab: number): ChatAccuracy {
  if (vocab <= 0 || logits.length !== reference.length || reference.length % vocab !== 0)
    throw new Error(`logit shapes differ: ${logits.length} vs ${reference.length} (vocab ${vocab})`);
  const steps = reference.length / vocab;
  let agree = 0;
  let maxLogitDiff = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < steps; k++) {
    const a = logits.subarray(k * vocab, (k + 1) * vocab);
    const b = reference.subarray(k * vocab, (k + 1) * vocab);
    if (argmax(a) === argmax(b)) agree++;
    for (let i = 0; i < vocab; i++) {
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(a[i] - b[i]));
      lo = Math.min(lo, b[i]);
      hi = Math.max(hi, b[i]);
    }
  }
  return { steps, top1Agreement: steps > 0 ? agree / steps : 0, maxLogitDiff, referenceLogitRange: hi - lo };
}
