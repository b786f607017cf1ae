// One MoT decoder layer of the language model (model doc §5.1), shared by the
// block graphs (llm.ts) and the chat decode graph (chat/decode-graph.ts). Each
// expert keeps its own residual stream and weights; the attention joins the
// experts' rows and is supplied by the caller, because the two graphs attend
// differently (ORT Attention with a past vs. fixed-capacity cache buffers).
import type { G2vlmConfig } from '../checkpoint/config';
import { llmNames, type LlmExpert } from '../checkpoint/weight-names';
import type { GraphBuilder } from '../graph/graph-builder';
import { gatedMlp, linear, reshape, rmsNorm, scaleBy } from '../graph/ops';

export interface LlmDims {
  hidden: number;
  headDim: number;
  queryHeads: number;
  kvHeads: number;
  intermediate: number;
  eps: number;
}

export function llmDims(config: G2vlmConfig): LlmDims {
  const t = config.text;
  return {
    hidden: t.hiddenSize,
    headDim: t.headDim,
    queryHeads: t.numHeads,
    kvHeads: t.numKvHeads,
    intermediate: t.intermediateSize,
    eps: t.rmsNormEps,
  };
}

/** One expert's rows: its residual stream (rows, D). */
export interface ExpertStream {
  expert: LlmExpert;
  x: string;
}

/** One expert's projections: q (rows, Hq, hd) and k (rows, Hk, hd) after their per-head RMSNorm, v (rows, Hk, hd). */
export interface ExpertQkv {
  q: string;
  k: string;
  v: string;
}

/**
 * Joins the experts' q/k/v into one attention and returns each expert's
 * attended rows (rows_e, Hq·hd), in the order of the streams.
 */
export type LayerAttention = (perExpert: ExpertQkv[]) => string[];

/** Layer `layer` over the streams; returns the streams after it. */
export function llmLayer(
  g: GraphBuilder,
  dims: LlmDims,
  layer: number,
  streams: ExpertStream[],
  attend: LayerAttention,
): ExpertStream[] {
  const { hidden: D, headDim: hd, queryHeads: Hq, kvHeads: Hk, eps } = dims;
  const qkv = streams.map(({ expert, x }): ExpertQkv => {
    const n = llmNames.layer(layer, expert);
    const a = rmsNorm(g, x, n.inputNorm, D, eps);
    const heads = (prefix: string, count: number): string =>
      reshape(g, linear(g, a, prefix, D, count * hd), [-1, count, hd]);
    // q/k RMSNorm per head, before RoPE (doc §5.1).
    return {
      q: rmsNorm(g, heads(n.qProj, Hq), n.qNorm, hd, eps),
      k: rmsNorm(g, heads(n.kProj, Hk), n.kNorm, hd, eps),
      v: heads(n.vProj, Hk),
    };
  });
  const attended = attend(qkv);
  const scales = llmNames.layerScales(layer);
  return streams.map(({ expert, x }, e) => {
    const n = llmNames.layer(layer, expert);
    const geo = expert === 'geo'; // layer scales: DINO rows only
    let o = linear(g, attended[e], n.oProj, Hq * hd, D, { bias: false });
    if (geo) o = scaleBy(g, o, scales.ls1, D);
    const afterAttention = g.op('Add', [x, o]);
    let m = gatedMlp(g, rmsNorm(g, afterAttention, n.postAttentionNorm, D, eps), n.mlp, D, dims.intermediate);
    if (geo) m = scaleBy(g, m, scales.ls2, D);
    return { expert, x: g.op('Add', [afterAttention, m]) };
  });
}
