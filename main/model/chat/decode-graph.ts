// One decode step of the chat as a single graph (model doc §3.2 phase 5, §5.1):
// token id → embedding → every LLM layer with the und expert only (decode rows
// are never geometry rows) → final norm → LM head, for ONE new token.
//
// Why a separate graph: the general LLM block graph takes the KV cache as
// `past_key`/`past_value`, so ORT copies the whole cache into `present` at every
// step and hands that copy back to JavaScript (tens of MB per token). Here the
// cache lives in fixed-capacity buffers owned by the caller (1, Hk, capacity, hd);
// the graph only READS them (scores over the buffer + an additive mask that
// hides the empty slots) and returns the new token's K/V rows, which the caller
// writes into the next slot. The attention of the new token over
// [cache …, itself] is computed in two parts joined before the softmax, which
// is the same softmax(QKᵀ/√hd)·V over the same keys.
import type { G2vlmConfig } from '../checkpoint/config';
import { GraphBuilder } from '../graph/graph-builder';
import { gatedMlp, linear, reshape, rmsNorm, rotary } from '../graph/ops';

const LM = 'language_model.';

export const decodeInputNames = {
  ids: 'input_ids',
  cos: 'rope_cos',
  sin: 'rope_sin',
  mask: 'cache_mask',
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
  const G = Hq / Hk;
  const eps = t.rmsNormEps;
  const g = new GraphBuilder('chat_decode');
  g.weightType = weightType;

  const ids = g.input(decodeInputNames.ids, 'int64', [1]);
  const cos = g.input(decodeInputNames.cos, 'float32', [1, 1, hd / 2]);
  const sin = g.input(decodeInputNames.sin, 'float32', [1, 1, hd / 2]);
  const mask = g.input(decodeInputNames.mask, 'float32', [1, 1, 1, 'capacity']);
  const table = g.weightAsFloat32(`${LM}model.embed_tokens.weight`, [t.vocabSize, D]);
  let x = g.op('Gather', [table, ids], { axis: 0 }); // (1, D)
  const scale = g.constScalar(1 / Math.sqrt(hd));

  for (let i = 0; i < t.numLayers; i++) {
    const p = `${LM}model.layers.${i}.`;
    const a = rmsNorm(g, x, `${p}input_layernorm.weight`, D, eps);
    const q = rmsNorm(
      g,
      reshape(g, linear(g, a, `${p}self_attn.q_proj`, D, Hq * hd), [1, Hq, 1, hd]),
      `${p}self_attn.q_norm.weight`,
      hd,
      eps,
    );
    const k = rmsNorm(
      g,
      reshape(g, linear(g, a, `${p}self_attn.k_proj`, D, Hk * hd), [1, Hk, 1, hd]),
      `${p}self_attn.k_norm.weight`,
      hd,
      eps,
    );
    const v = reshape(g, linear(g, a, `${p}self_attn.v_proj`, D, Hk * hd), [1, Hk, 1, hd]);
    const qRot = rotary(g, q, cos, sin);
    const kRot = rotary(g, k, cos, sin);
    g.output(kRot, decodeOutputNames.newKey(i));
    g.output(v, decodeOutputNames.newValue(i));

    // GQA: query head h uses KV head h // G, i.e. (1, Hq, 1, hd) -> (1, Hk, G, hd).
    const qg = g.op('Mul', [reshape(g, qRot, [1, Hk, G, hd]), scale]);
    const cacheK = g.input(decodeInputNames.cacheKey(i), 'float32', [1, Hk, 'capacity', hd]);
    const cacheV = g.input(decodeInputNames.cacheValue(i), 'float32', [1, Hk, 'capacity', hd]);
    const cacheScores = g.op('Add', [
      g.op('MatMul', [qg, g.op('Transpose', [cacheK], { perm: [0, 1, 3, 2] })]),
      mask,
    ]);
    const selfScore = g.op('ReduceSum', [g.op('Mul', [qg, kRot]), g.constInt64([-1])], { keepdims: 1 });
    const probs = g.op('Softmax', [g.op('Concat', [cacheScores, selfScore], { axis: -1 })], { axis: -1 });
    const cacheProbs = g.op('Slice', [probs, g.constInt64([0]), g.constInt64([-1]), g.constInt64([-1])]);
    const selfProb = g.op('Slice', [probs, g.constInt64([-1]), g.constInt64([2 ** 62]), g.constInt64([-1])]);
    const attended = g.op('Add', [g.op('MatMul', [cacheProbs, cacheV]), g.op('Mul', [selfProb, v])]); // (1, Hk, G, hd)
    const o = linear(g, reshape(g, attended, [1, Hq * hd]), `${p}self_attn.o_proj`, Hq * hd, D, {
      bias: false,
    });
    x = g.op('Add', [x, o]);
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
  const normed = rmsNorm(g, x, `${LM}model.norm.weight`, D, eps);
  g.output(linear(g, normed, `${LM}lm_head`, D, t.vocabSize, { bias: false }), decodeOutputNames.logits);
  return g;
}
