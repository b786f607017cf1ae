// The MoT language model (model doc §5). One graph runs every layer over a
// block of rows appended to the KV cache. Rows are routed by index inputs:
// `geo_rows` (DINO tokens) use every `_moe_geo` weight plus the ls1/ls2 layer
// scales and `norm_moe_geo`; `und_rows` (text, start/end of image, ViT tokens)
// use the plain weights. Both experts share one attention over all rows and
// the cache. Two variants: causal (bottom-right, text/decode phases) and
// non-causal (geometry / ViT blocks), sharing one external weights file.
// Also the embed-tokens and lm-head graphs.
import type { G2vlmConfig } from '../checkpoint/config';
import { GraphBuilder } from '../graph/graph-builder';
import {
  attention,
  gatedMlp,
  linear,
  queryChunkedAttention,
  reshape,
  rmsNorm,
  rotary,
  scaleBy,
  transpose,
} from '../graph/ops';

const LM = 'language_model.';

export const llmInputNames = {
  embeds: 'inputs_embeds',
  cos: 'rope_cos',
  sin: 'rope_sin',
  geoRows: 'geo_rows',
  undRows: 'und_rows',
  /** Non-causal graph only: queries per attention block (bounds the score memory). */
  queryChunk: 'query_chunk',
  pastKey: (i: number) => `past_key_${i}`,
  pastValue: (i: number) => `past_value_${i}`,
};
export const llmOutputNames = {
  hidden: 'hidden',
  presentKey: (i: number) => `present_key_${i}`,
  presentValue: (i: number) => `present_value_${i}`,
};

interface Expert {
  suffix: '' | '_moe_geo';
  rows: string;
  scatterIndex: string;
  x: string;
}

export function buildLlmGraph(
  config: G2vlmConfig,
  opts: { causal: boolean; weightType?: 'float32' | 'float16' },
): GraphBuilder {
  const t = config.text;
  const D = t.hiddenSize;
  const hd = t.headDim;
  const Hq = t.numHeads;
  const Hk = t.numKvHeads;
  const eps = t.rmsNormEps;
  const g = new GraphBuilder(opts.causal ? 'llm_causal' : 'llm_block');
  g.weightType = opts.weightType ?? 'float32';

  const embeds = g.input(llmInputNames.embeds, 'float32', ['rows', D]);
  const cos = g.input(llmInputNames.cos, 'float32', [1, 'rows', hd / 2]);
  const sin = g.input(llmInputNames.sin, 'float32', [1, 'rows', hd / 2]);
  const geoRows = g.input(llmInputNames.geoRows, 'int64', ['geo']);
  const undRows = g.input(llmInputNames.undRows, 'int64', ['und']);
  const queryChunk = opts.causal ? '' : g.input(llmInputNames.queryChunk, 'int64', [1]);

  const rowsShape = g.op('Shape', [embeds]);
  const rowCount = g.op('Slice', [rowsShape, g.constInt64([0]), g.constInt64([1])]);
  const zerosOf = (...tail: number[]): string =>
    g.op('ConstantOfShape', [g.op('Concat', [rowCount, g.constInt64(tail)], { axis: 0 })]);
  const qZeros = zerosOf(Hq, hd);
  const kvZeros = zerosOf(Hk, hd);

  // Per-expert residual streams (routing is fixed for the whole block).
  const experts: Expert[] = [
    {
      suffix: '_moe_geo',
      rows: geoRows,
      scatterIndex: g.op('Unsqueeze', [geoRows, g.constInt64([1])]),
      x: '',
    },
    { suffix: '', rows: undRows, scatterIndex: g.op('Unsqueeze', [undRows, g.constInt64([1])]), x: '' },
  ];
  for (const e of experts) e.x = g.op('Gather', [embeds, e.rows], { axis: 0 });

  // Scatter per-expert rows back into block order.
  const scatter = (base: string, parts: string[]): string =>
    experts.reduce((acc, e, i) => g.op('ScatterND', [acc, e.scatterIndex, parts[i]]), base);
  // (rows, H, hd) -> (1, H, rows, hd)
  const headsFirst = (x: string): string =>
    transpose(g, g.op('Unsqueeze', [x, g.constInt64([0])]), [0, 2, 1, 3]);

  for (let i = 0; i < t.numLayers; i++) {
    const p = `${LM}model.layers.${i}.`;
    const qs: string[] = [];
    const ks: string[] = [];
    const vs: string[] = [];
    for (const e of experts) {
      const s = e.suffix;
      const a = rmsNorm(g, e.x, `${p}input_layernorm${s}.weight`, D, eps);
      // q/k RMSNorm per head, before RoPE (doc §5.1).
      const q = reshape(g, linear(g, a, `${p}self_attn.q_proj${s}`, D, Hq * hd), [-1, Hq, hd]);
      const k = reshape(g, linear(g, a, `${p}self_attn.k_proj${s}`, D, Hk * hd), [-1, Hk, hd]);
      qs.push(rmsNorm(g, q, `${p}self_attn.q_norm${s}.weight`, hd, eps));
      ks.push(rmsNorm(g, k, `${p}self_attn.k_norm${s}.weight`, hd, eps));
      vs.push(reshape(g, linear(g, a, `${p}self_attn.v_proj${s}`, D, Hk * hd), [-1, Hk, hd]));
    }
    const q = rotary(g, headsFirst(scatter(qZeros, qs)), cos, sin);
    const k = rotary(g, headsFirst(scatter(kvZeros, ks)), cos, sin);
    const v = headsFirst(scatter(kvZeros, vs));
    const pastKey = g.input(llmInputNames.pastKey(i), 'float32', [1, Hk, 'past', hd]);
    const pastValue = g.input(llmInputNames.pastValue(i), 'float32', [1, Hk, 'past', hd]);
    let y: string;
    if (opts.causal) {
      // Short text / decode blocks: the op's bottom-right causal mask with the cache as `past`.
      [y] = attention(g, q, k, v, {
        causal: true,
        pastKey,
        pastValue,
        presentKey: llmOutputNames.presentKey(i),
        presentValue: llmOutputNames.presentValue(i),
      });
    } else {
      // Long non-causal blocks (geometry, ViT): every row sees the cache and the whole block.
      const keys = g.node('Concat', [pastKey, k], {
        outputs: [llmOutputNames.presentKey(i)],
        attrs: { axis: 2 },
      })[0];
      const values = g.node('Concat', [pastValue, v], {
        outputs: [llmOutputNames.presentValue(i)],
        attrs: { axis: 2 },
      })[0];
      y = queryChunkedAttention(g, q, keys, values, queryChunk);
    }
    g.output(llmOutputNames.presentKey(i));
    g.output(llmOutputNames.presentValue(i));
    const attended = reshape(g, transpose(g, y, [0, 2, 1, 3]), [-1, Hq * hd]); // (rows, Hq·hd)
    for (const e of experts) {
      const s = e.suffix;
      const geo = s === '_moe_geo';
      let o = linear(
        g,
        g.op('Gather', [attended, e.rows], { axis: 0 }),
        `${p}self_attn.o_proj${s}`,
        Hq * hd,
        D,
        {
          bias: false,
        },
      );
      if (geo) o = scaleBy(g, o, `${p}ls1.gamma`, D); // layer scale: DINO rows only
      e.x = g.op('Add', [e.x, o]);
      let m = gatedMlp(
        g,
        rmsNorm(g, e.x, `${p}post_attention_layernorm${s}.weight`, D, eps),
        `${p}mlp${s}`,
        D,
        t.intermediateSize,
      );
      if (geo) m = scaleBy(g, m, `${p}ls2.gamma`, D);
      e.x = g.op('Add', [e.x, m]);
    }
  }
  const finals = experts.map((e) => rmsNorm(g, e.x, `${LM}model.norm${e.suffix}.weight`, D, eps));
  g.output(scatter(zerosOf(D), finals), llmOutputNames.hidden);
  return g;
}

export function buildEmbedTokensGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
): GraphBuilder {
  const g = new GraphBuilder('embed_tokens');
  g.weightType = weightType;
  const ids = g.input('input_ids', 'int64', ['rows']);
  const table = g.weightAsFloat32(`${LM}model.embed_tokens.weight`, [
    config.text.vocabSize,
    config.text.hiddenSize,
  ]);
  g.output(g.op('Gather', [table, ids], { axis: 0 }), 'inputs_embeds');
  return g;
}

export function buildLmHeadGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
): GraphBuilder {
  const g = new GraphBuilder('lm_head');
  g.weightType = weightType;
  const hidden = g.input('hidden', 'float32', ['rows', config.text.hiddenSize]);
  g.output(
    linear(g, hidden, `${LM}lm_head`, config.text.hiddenSize, config.text.vocabSize, { bias: false }),
    'logits',
  );
  return g;
}
