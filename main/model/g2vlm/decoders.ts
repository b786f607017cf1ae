// Geometry decoders (model doc §7.1–7.2), frames as the batch: point and
// camera decoders (self-attention blocks with RoPE2D), the global decoder
// (self + cross attention to frame 0's LLM hidden), each with its head.
// Inputs: `hidden` (N, P, D) = final-normed DINO rows of the geometry block;
// `rope_cos`/`rope_sin` (P, c) from rope2d.ts; `patch_grid` int64 [h, w].
import type { G2vlmConfig } from '../checkpoint/config';
import { decoderNames, type DecoderKind } from '../checkpoint/weight-names';
import { GraphBuilder, type AttentionForm } from '../graph/graph-builder';
import {
  attention,
  dimOf,
  expandTo,
  gelu,
  layerNorm,
  linear,
  mergeHeads,
  mlp,
  shapeOf,
  splitHeads,
} from '../graph/ops';
import { cameraHead, localPointsFromRaw, pointHead } from './heads';

export type { DecoderKind } from '../checkpoint/weight-names';

/** x·cos + rotate_half_per_half(x)·sin on (B, H, S, c). */
function rope2d(g: GraphBuilder, x: string, cos: string, sin: string): string {
  const [a1, a2, b1, b2] = g.node('Split', [x], { outputs: 4, attrs: { axis: -1, num_outputs: 4 } });
  const rotated = g.op('Concat', [g.op('Neg', [a2]), a1, g.op('Neg', [b2]), b1], { axis: -1 });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
}

export function buildDecoderGraph(
  config: G2vlmConfig,
  kind: DecoderKind,
  weightType: 'float32' | 'float16' = 'float32',
  attentionForm: AttentionForm = 'attention-op',
): GraphBuilder {
  const cfg = config.decoders;
  const D = cfg.width;
  const H = cfg.numHeads;
  const c = cfg.headDim;
  const eps = cfg.layerNormEps;
  const g = new GraphBuilder(`${kind}_decoder`);
  g.weightType = weightType;
  g.attentionForm = attentionForm;
  const hidden = g.input('hidden', 'float32', ['frames', 'patches', D]);
  const cos = g.input('rope_cos', 'float32', ['patches', c]);
  const sin = g.input('rope_sin', 'float32', ['patches', c]);
  const patchGrid = kind === 'camera' ? '' : g.input('patch_grid', 'int64', [2]);
  const context = kind === 'global' ? g.input('context', 'float32', [1, 'patches', D]) : '';
  const prefix = decoderNames.prefix(kind);
  const heads = { query: H, kv: H, dim: c };
  const ffn = (x: string, norm: string, n: { fc1: string; fc2: string }): string =>
    g.op('Add', [x, mlp(g, layerNorm(g, x, norm, D, eps), n, D, cfg.mlpRatio * D, gelu)]);

  let x = hidden;
  for (let i = 0; i < cfg.depth; i++) {
    const n = decoderNames.block(kind, i);
    const a = layerNorm(g, x, n.norm1, D, eps);
    const [q, k, v] = g.node('Split', [linear(g, a, n.qkv, D, 3 * D)], {
      outputs: 3,
      attrs: { axis: -1, num_outputs: 3 },
    });
    const [y] = attention(
      g,
      rope2d(g, splitHeads(g, q, H, c), cos, sin),
      rope2d(g, splitHeads(g, k, H, c), cos, sin),
      splitHeads(g, v, H, c),
      { heads },
    );
    x = g.op('Add', [x, linear(g, mergeHeads(g, y, H, c), n.proj, D, D)]);
    if (decoderNames.hasCrossAttention(kind)) {
      // Cross attention to frame 0 (computed once, broadcast to every frame).
      const yCtx = layerNorm(g, context, n.normY, D, eps);
      const xq = layerNorm(g, x, n.norm2, D, eps);
      const cq = rope2d(g, splitHeads(g, linear(g, xq, n.crossQ, D, D), H, c), cos, sin);
      const perFrame = shapeOf(g, [dimOf(g, cq, 0), [1, 1, 1]]);
      const ck = expandTo(
        g,
        rope2d(g, splitHeads(g, linear(g, yCtx, n.crossK, D, D), H, c), cos, sin),
        perFrame,
      );
      const cv = expandTo(g, splitHeads(g, linear(g, yCtx, n.crossV, D, D), H, c), perFrame);
      const [cy] = attention(g, cq, ck, cv, { heads });
      x = g.op('Add', [x, linear(g, mergeHeads(g, cy, H, c), n.crossProj, D, D)]);
      x = ffn(x, n.norm3, n);
    } else {
      x = ffn(x, n.norm2, n);
    }
  }
  g.output(x, `${prefix}_hidden`);
  const outDim = kind === 'camera' ? cfg.cameraOutDim : kind === 'point' ? cfg.pointOutDim : cfg.globalOutDim;
  const out = linear(g, x, decoderNames.linearOut(kind), D, outDim);
  if (kind === 'point') {
    g.output(localPointsFromRaw(g, pointHead(g, out, 'point_head', cfg, patchGrid)), 'local_points');
  } else if (kind === 'global') {
    g.output(pointHead(g, out, 'global_point_head', cfg, patchGrid), 'global_points');
  } else {
    const [rot9, t] = cameraHead(g, out, cfg);
    g.output(rot9, 'camera_rot9');
    g.output(t, 'camera_t');
  }
  return g;
}
