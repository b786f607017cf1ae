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
import type { G2vlmConfig } from '../checkpoint/config';
import { GraphBuilder } from '../graph/graph-builder';
import { gatedMlp, linear, reshape, rmsNorm, rotary, transpose } from '../graph/ops';

const LM = 'language_model.';

export const decodeInputNames = {
  ids: 'input_ids',
  cos: 'rope_cos',
  sin: 'rope_sin',
  cacheMask: 'cache_mask',
  blockMask: 'block_mask',
  cacheKey: (i: number) => `cache_key_${i}`,
  cacheValue: (i: number) => `cache_value_${i}`,
} as const;
export const decodeOutputNames = {
  logits: 'logits',
  newKey: (i: number) => `new_key_${i}`,
  newValue: (i: number) => `new_value_${i}`,
} as const;

export function buildChatDecodeGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
): GraphBuilder {
  const t = config.text;
  const D = t.hiddenSize;
  const hd = t.headDim;
  const Hq = t.numHeads;
  const Hk = t.numKvHeads;
  const eps = t.rmsNormEps;
  const g = new GraphBuilder('chat_decode');
  g.weightType = weightType;

  const ids = g.input(decodeInputNames.ids, 'int64', ['rows']);
  const cos = g.input(decodeInputNames.cos, 'float32', [1, 'rows', hd / 2]);
  const sin = g.input(decodeInputNames.sin, 'float32', [1, 'rows', hd / 2]);
  // Additive masks: cache slots (0 filled / −∞ empty) and causal within the block, rows (g, i) of each KV group.
  const cacheMask = g.input(decodeInputNames.cacheMask, 'float32', [1, 1, 1, 'capacity']);
  const blockMask = g.input(decodeInputNames.blockMask, 'float32', [1, 1, 'group_rows', 'rows']);
  const table = g.weightAsFloat32(`${LM}model.embed_tokens.weight`, [t.vocabSize, D]);
  let x = g.op('Gather', [table, ids], { axis: 0 }); // (L, D)
  const scale = g.constScalar(1 / Math.sqrt(hd));
  // (L, H·hd) -> (1, H, L, hd)
  const headsFirst = (v: string, heads: number): string =>
    transpose(g, reshape(g, v, [1, -1, heads, hd]), [0, 2, 1, 3]);

  for (let i = 0; i < t.numLayers; i++) {
    const p = `${LM}model.layers.${i}.`;
    const a = rmsNorm(g, x, `${p}input_layernorm.weight`, D, eps);
    const q = rmsNorm(
      g,
      headsFirst(linear(g, a, `${p}self_attn.q_proj`, D, Hq * hd), Hq),
      `${p}self_attn.q_norm.weight`,
      hd,
      eps,
    );
    const k = rmsNorm(
      g,
      headsFirst(linear(g, a, `${p}self_attn.k_proj`, D, Hk * hd), Hk),
      `${p}self_attn.k_norm.weight`,
      hd,
      eps,
    );
    const v = headsFirst(linear(g, a, `${p}self_attn.v_proj`, D, Hk * hd), Hk);
    const qRot = rotary(g, q, cos, sin);
    const kRot = rotary(g, k, cos, sin);
    g.output(kRot, decodeOutputNames.newKey(i));
    g.output(v, decodeOutputNames.newValue(i));

    // GQA: query head h uses KV head h // G: (1, Hq, L, hd) -> (1, Hk, G·L, hd).
    const qg = g.op('Mul', [reshape(g, qRot, [1, Hk, -1, hd]), scale]);
    const cacheK = g.input(decodeInputNames.cacheKey(i), 'float32', [1, Hk, 'capacity', hd]);
    const cacheV = g.input(decodeInputNames.cacheValue(i), 'float32', [1, Hk, 'capacity', hd]);
    const cacheScores = g.op('Add', [g.op('MatMul', [qg, transpose(g, cacheK, [0, 1, 3, 2])]), cacheMask]);
    const blockScores = g.op('Add', [g.op('MatMul', [qg, transpose(g, kRot, [0, 1, 3, 2])]), blockMask]);
    const probs = g.op('Softmax', [g.op('Concat', [cacheScores, blockScores], { axis: -1 })], { axis: -1 });
    const widths = g.op(
      'Concat',
      [
        g.op('Slice', [g.op('Shape', [cacheK]), g.constInt64([2]), g.constInt64([3])]),
        g.op('Slice', [g.op('Shape', [kRot]), g.constInt64([2]), g.constInt64([3])]),
      ],
      { axis: 0 },
    );
    const [cacheProbs, blockProbs] = g.node('Split', [probs, widths], { outputs: 2, attrs: { axis: -1 } });
    const attended = g.op('Add', [g.op('MatMul', [cacheProbs, cacheV]), g.op('MatMul', [blockProbs, v])]); // (1, Hk, G·L, hd)
    const rows = reshape(g, transpose(g, reshape(g, attended, [1, Hq, -1, hd]), [0, 2, 1, 3]), [-1, Hq * hd]);
    x = g.op('Add', [x, linear(g, rows, `${p}self_attn.o_proj`, Hq * hd, D, { bias: false })]);
    x = g.op('Add', [
      x,
      gatedMlp(
        g,
        rmsNorm(g, x, `${p}post_attention_layernorm.weight`, D, eps),
        `${p}mlp`,
        D,
        t.intermediateSize,
      ),
    ]);
  }
  // Logits are only needed for the last row (the next token).
  const last = g.op('Gather', [x, g.constInt64([-1])], { axis: 0 });
  const normed = rmsNorm(g, last, `${LM}model.norm.weight`, D, eps);
  g.output(linear(g, normed, `${LM}lm_head`, D, t.vocabSize, { bias: false }), decodeOutputNames.logits);
  return g;
}
