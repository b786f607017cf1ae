// The chat's text blocks after the prefix as a single graph (model doc §3.2
// phases 4-5, §5.1): token ids → embeddings → every LLM layer with the und
// expert only (question and answer rows are never geometry rows) → final norm →
// LM head on the LAST row only. One run per question block and per decode step.
//
// Why a separate graph: the general LLM block graph takes the KV cache as
// `past_key`/`past_value`, so ORT copies the whole cache into `present` at every
// step and hands that copy back to JavaScript (tens of MB per token). Here the
// cache lives in fixed-capacity buffers owned by the caller (1, Hk, capacity, hd);
// the graph only READS them (scores over the buffer + an additive mask that
// hides the empty slots) and returns the new rows' K/V, which the caller writes
// into the next slots. The attention of the new rows over [cache …, block] is
// computed in two parts joined before the softmax — the same softmax(QKᵀ/√hd)·V
// over the same keys; within the block it is causal (bottom-right: every cached
// key, then the block rows up to itself, doc §3.3).
//
// On a GPU the caller's buffers would cross the bus at every step (the whole
// cache, ~200 MB a token for the real model's prompt). The device form of the
// graph (`cacheOnDevice`) also returns each layer's cache with the new rows
// written at `slot`; the runtime keeps those outputs on the GPU
// (preferredOutputLocation 'gpu-buffer') and feeds them to the next step, so
// only the new rows come back and only the mask goes up (chat-decoder.ts).
import type { G2vlmConfig } from '../checkpoint/config';
import { llmNames } from '../checkpoint/weight-names';
import { llmDims, llmLayer, type ExpertStream } from '../g2vlm/llm-layer';
import { GraphBuilder } from '../graph/graph-builder';
import { dimOf, linear, reshape, rmsNorm, rotary, shapeOf, transpose } from '../graph/ops';

export const decodeInputNames = {
  ids: 'input_ids',
  cos: 'rope_cos',
  sin: 'rope_sin',
  cacheMask: 'cache_mask',
  blockMask: 'block_mask',
  cacheKey: (i: number) => `cache_key_${i}`,
  cacheValue: (i: number) => `cache_value_${i}`,
  /** Device form only: the cache slot the block's first row goes to (int64, [1]). */
  slot: 'slot',
} as const;
export const decodeOutputNames = {
  logits: 'logits',
  newKey: (i: number) => `new_key_${i}`,
  newValue: (i: number) => `new_value_${i}`,
  /** Device form only: the layer's cache with the block's rows written at `slot`. */
  updatedKey: (i: number) => `updated_key_${i}`,
  updatedValue: (i: number) => `updated_value_${i}`,
} as const;

export interface DecodeGraphOptions {
  weightType?: 'float32' | 'float16';
  /** Also return every layer's updated cache, for a runtime that keeps it on the GPU. */
  cacheOnDevice?: boolean;
}

export function buildChatDecodeGraph(config: G2vlmConfig, options: DecodeGraphOptions = {}): GraphBuilder {
  const { weightType = 'float32', cacheOnDevice = false } = options;
  const dims = llmDims(config);
  const { hidden: D, headDim: hd, queryHeads: Hq, kvHeads: Hk, eps } = dims;
  const g = new GraphBuilder('chat_decode');
  g.weightType = weightType;

  const ids = g.input(decodeInputNames.ids, 'int64', ['rows']);
  const cos = g.input(decodeInputNames.cos, 'float32', [1, 'rows', hd / 2]);
  const sin = g.input(decodeInputNames.sin, 'float32', [1, 'rows', hd / 2]);
  // Additive masks: cache slots (0 filled / −∞ empty) and causal within the block, rows (g, i) of each KV group.
  const cacheMask = g.input(decodeInputNames.cacheMask, 'float32', [1, 1, 1, 'capacity']);
  const blockMask = g.input(decodeInputNames.blockMask, 'float32', [1, 1, 'group_rows', 'rows']);
  const slot = cacheOnDevice ? g.input(decodeInputNames.slot, 'int64', [1]) : '';
  /** The cache (1, Hk, capacity, hd) with `rows` (1, Hk, L, hd) in place of its slots slot … slot + L − 1. */
  const writeRows = (cache: string, rows: string): string => {
    const two = g.constInt64([2]);
    const before = g.op('Slice', [cache, g.constInt64([0]), slot, two]);
    const end = g.op('Add', [slot, dimOf(g, rows, 2)]);
    const after = g.op('Slice', [cache, end, dimOf(g, cache, 2), two]);
    return g.op('Concat', [before, rows, after], { axis: 2 });
  };
  const table = g.weightAsFloat32(llmNames.embedTokens, [config.text.vocabSize, D]);
  let stream: ExpertStream = { expert: 'und', x: g.op('Gather', [table, ids], { axis: 0 }) }; // (L, D)
  const scale = g.constScalar(1 / Math.sqrt(hd));
  // (L, H, hd) -> (1, H, L, hd)
  const headsFirst = (v: string): string =>
    transpose(g, g.op('Unsqueeze', [v, g.constInt64([0])]), [0, 2, 1, 3]);

  for (let i = 0; i < config.text.numLayers; i++) {
    [stream] = llmLayer(g, dims, i, [stream], ([{ q, k, v: vRows }]) => {
      const qRot = rotary(g, headsFirst(q), cos, sin);
      const kRot = rotary(g, headsFirst(k), cos, sin);
      const v = headsFirst(vRows);
      g.output(kRot, decodeOutputNames.newKey(i));
      g.output(v, decodeOutputNames.newValue(i));

      // GQA: query head h uses KV head h // G: (1, Hq, L, hd) -> (1, Hk, G·L, hd).
      const qg = g.op('Mul', [reshape(g, qRot, [1, Hk, -1, hd]), scale]);
      const cacheK = g.input(decodeInputNames.cacheKey(i), 'float32', [1, Hk, 'capacity', hd]);
      const cacheV = g.input(decodeInputNames.cacheValue(i), 'float32', [1, Hk, 'capacity', hd]);
      if (cacheOnDevice) {
        g.output(writeRows(cacheK, kRot), decodeOutputNames.updatedKey(i));
        g.output(writeRows(cacheV, v), decodeOutputNames.updatedValue(i));
      }
      const cacheScores = g.op('Add', [g.op('MatMul', [qg, transpose(g, cacheK, [0, 1, 3, 2])]), cacheMask]);
      const blockScores = g.op('Add', [g.op('MatMul', [qg, transpose(g, kRot, [0, 1, 3, 2])]), blockMask]);
      const probs = g.op('Softmax', [g.op('Concat', [cacheScores, blockScores], { axis: -1 })], { axis: -1 });
      const widths = shapeOf(g, [dimOf(g, cacheK, 2), dimOf(g, kRot, 2)]);
      const [cacheProbs, blockProbs] = g.node('Split', [probs, widths], { outputs: 2, attrs: { axis: -1 } });
      const attended = g.op('Add', [g.op('MatMul', [cacheProbs, cacheV]), g.op('MatMul', [blockProbs, v])]); // (1, Hk, G·L, hd)
      return [reshape(g, transpose(g, reshape(g, attended, [1, Hq, -1, hd]), [0, 2, 1, 3]), [-1, Hq * hd])];
    });
  }
  // Logits are only needed for the last row (the next token).
  const last = g.op('Gather', [stream.x, g.constInt64([-1])], { axis: 0 });
  const normed = rmsNorm(g, last, llmNames.finalNorm('und'), D, eps);
  g.output(
    linear(g, normed, llmNames.lmHead, D, config.text.vocabSize, { bias: false }),
    decodeOutputNames.logits,
  );
  return g;
}
