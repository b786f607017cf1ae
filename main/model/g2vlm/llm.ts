// The MoT language model (model doc §5). One graph runs every layer over a
// block of rows appended to the KV cache. Rows are routed by index inputs:
// `geo_rows` (DINO tokens) use every `_moe_geo` weight plus the ls1/ls2 layer
// scales and `norm_moe_geo`; `und_rows` (text, start/end of image, ViT tokens)
// use the plain weights. Both experts share one attention over all rows and
// the cache. Two variants: causal (bottom-right, text/decode phases) and
// non-causal (geometry / ViT blocks), sharing one external weights file.
// Also the embed-tokens and lm-head graphs.
import type { G2vlmConfig } from '../checkpoint/config';
import { llmNames, type LlmExpert } from '../checkpoint/weight-names';
import { GraphBuilder, type AttentionForm } from '../graph/graph-builder';
import {
  attention,
  dimOf,
  linear,
  queryChunkedAttention,
  reshape,
  rmsNorm,
  rotary,
  shapeOf,
  transpose,
  zerosOf,
} from '../graph/ops';
import { llmDims, llmLayer, type ExpertStream } from './llm-layer';

export const llmInputNames = {
  embeds: 'inputs_embeds',
  cos: 'rope_cos',
  sin: 'rope_sin',
  geoRows: 'geo_rows',
  undRows: 'und_rows',
  /** Non-causal graph only: queries per attention block (bounds the score memory). */
  queryChunk: 'query_chunk',
  /** The one-graph LLM only (int64 [1]): 1 = causal block (text, images), 0 = non-causal (geometry). */
  causal: 'causal',
  pastKey: (i: number) => `past_key_${i}`,
  pastValue: (i: number) => `past_value_${i}`,
};
export const llmOutputNames = {
  hidden: 'hidden',
  presentKey: (i: number) => `present_key_${i}`,
  presentValue: (i: number) => `present_value_${i}`,
};

/** How one expert's rows sit in the block: their indices, as Gather / ScatterND indices. */
interface ExpertRows {
  expert: LlmExpert;
  rows: string;
  scatterIndex: string;
}

/**
 * The LLM over one block of rows with the KV cache as past. `causal: true`: the
 * Attention op's own causal mask (llm_causal); false: the query-chunked
 * non-causal block (llm_block); 'input': the chunked block whose causality is
 * the `causal` input — one graph, so one session, for every LLM run a job
 * makes (runtime/llm-runner.ts: a second session over the same layers costs a
 * second mapping or, quantised, a second prepacked copy).
 */
export function buildLlmGraph(
  config: G2vlmConfig,
  opts: { causal: boolean | 'input'; weightType?: 'float32' | 'float16'; attentionForm?: AttentionForm },
): GraphBuilder {
  const dims = llmDims(config);
  const { hidden: D, headDim: hd, queryHeads: Hq, kvHeads: Hk, eps } = dims;
  const g = new GraphBuilder(opts.causal === 'input' ? 'llm_one' : opts.causal ? 'llm_causal' : 'llm_block');
  g.weightType = opts.weightType ?? 'float32';
  g.attentionForm = opts.attentionForm ?? 'attention-op';
  const heads = { query: Hq, kv: Hk, dim: hd };

  const embeds = g.input(llmInputNames.embeds, 'float32', ['rows', D]);
  const cos = g.input(llmInputNames.cos, 'float32', [1, 'rows', hd / 2]);
  const sin = g.input(llmInputNames.sin, 'float32', [1, 'rows', hd / 2]);
  const geoRows = g.input(llmInputNames.geoRows, 'int64', ['geo']);
  const undRows = g.input(llmInputNames.undRows, 'int64', ['und']);
  const queryChunk = opts.causal === true ? '' : g.input(llmInputNames.queryChunk, 'int64', [1]);
  const causalInput = opts.causal === 'input' ? g.input(llmInputNames.causal, 'int64', [1]) : undefined;

  const rowCount = dimOf(g, embeds, 0);
  const rowZeros = (...tail: number[]): string => zerosOf(g, shapeOf(g, [rowCount, tail]));
  const qZeros = rowZeros(Hq, hd);
  const kvZeros = rowZeros(Hk, hd);

  // Per-expert residual streams (routing is fixed for the whole block).
  const experts: ExpertRows[] = [
    { expert: 'geo', rows: geoRows, scatterIndex: g.op('Unsqueeze', [geoRows, g.constInt64([1])]) },
    { expert: 'und', rows: undRows, scatterIndex: g.op('Unsqueeze', [undRows, g.constInt64([1])]) },
  ];
  let streams: ExpertStream[] = experts.map((e) => ({
    expert: e.expert,
    x: g.op('Gather', [embeds, e.rows], { axis: 0 }),
  }));

  // Scatter per-expert rows back into block order.
  const scatter = (base: string, parts: string[]): string =>
    experts.reduce((acc, e, i) => g.op('ScatterND', [acc, e.scatterIndex, parts[i]]), base);
  // (rows, H, hd) -> (1, H, rows, hd)
  const headsFirst = (x: string): string =>
    transpose(g, g.op('Unsqueeze', [x, g.constInt64([0])]), [0, 2, 1, 3]);

  for (let i = 0; i < config.text.numLayers; i++) {
    streams = llmLayer(g, dims, i, streams, (qkv) => {
      // Each expert's rows back into one sequence, heads first, then M-RoPE (q and k alike).
      const rotated = (zeros: string, rows: string[]): string =>
        rotary(g, headsFirst(scatter(zeros, rows)), cos, sin);
      const q = rotated(
        qZeros,
        qkv.map((e) => e.q),
      );
      const k = rotated(
        kvZeros,
        qkv.map((e) => e.k),
      );
      const v = headsFirst(
        scatter(
          kvZeros,
          qkv.map((e) => e.v),
        ),
      );
      const pastKey = g.input(llmInputNames.pastKey(i), 'float32', [1, Hk, 'past', hd]);
      const pastValue = g.input(llmInputNames.pastValue(i), 'float32', [1, Hk, 'past', hd]);
      let y: string;
      if (opts.causal === true) {
        // Short text / decode blocks: the op's bottom-right causal mask with the cache as `past`.
        [y] = attention(g, q, k, v, {
          heads,
          causal: true,
          pastKey,
          pastValue,
          presentKey: llmOutputNames.presentKey(i),
          presentValue: llmOutputNames.presentValue(i),
        });
      } else {
        // Long non-causal blocks (geometry): every row sees the cache and the whole block
        // (with the causal input set, the cache and the block up to itself).
        const keys = g.node('Concat', [pastKey, k], {
          outputs: [llmOutputNames.presentKey(i)],
          attrs: { axis: 2 },
        })[0];
        const values = g.node('Concat', [pastValue, v], {
          outputs: [llmOutputNames.presentValue(i)],
          attrs: { axis: 2 },
        })[0];
        y = queryChunkedAttention(g, q, keys, values, queryChunk, heads, causalInput);
      }
      g.output(llmOutputNames.presentKey(i));
      g.output(llmOutputNames.presentValue(i));
      const attended = reshape(g, transpose(g, y, [0, 2, 1, 3]), [-1, Hq * hd]); // (rows, Hq·hd)
      return experts.map((e) => g.op('Gather', [attended, e.rows], { axis: 0 }));
    });
  }
  const finals = streams.map((s) => rmsNorm(g, s.x, llmNames.finalNorm(s.expert), D, eps));
  g.output(scatter(rowZeros(D), finals), llmOutputNames.hidden);
  return g;
}

export function buildEmbedTokensGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
): GraphBuilder {
  const g = new GraphBuilder('embed_tokens');
  g.weightType = weightType;
  const ids = g.input('input_ids', 'int64', ['rows']);
  const table = g.weightAsFloat32(llmNames.embedTokens, [config.text.vocabSize, config.text.hiddenSize]);
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
    linear(g, hidden, llmNames.lmHead, config.text.hiddenSize, config.text.vocabSize, { bias: false }),
    'logits',
  );
  return g;
}
