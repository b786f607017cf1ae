// How many query rows the non-causal LLM graph attends at once. Its Loop runs
// the queries in chunks so that one chunk's scores (heads x rows x keys floats,
// plus the softmax probabilities of the same size) stay under a budget: at the
// real model's 4 frames (3.1k rows) all scores at once would be ~470 MB twice
// over. 256 MiB costs ~10% more CPU in the attention of the medium model than
// one block (commit 151d579) and keeps an int8 4-frame reconstruction of the
// real architecture under 7.5 GiB. The memory estimate uses the same rule.

/** Bytes of attention scores one non-causal query chunk may hold at a time. */
export const ATTENTION_SCORE_BUDGET_BYTES = 256 * 2 ** 20;
/** The smallest chunk (the Loop's per-iteration overhead dominates below it). */
const MIN_QUERY_CHUNK = 64;

/** Query rows per chunk for `keys` keys and `heads` query heads. */
export function queryChunkRows(heads: number, keys: number): number {
  return Math.max(MIN_QUERY_CHUNK, Math.floor(ATTENTION_SCORE_BUDGET_BYTES / (heads * keys * 4)));
}
