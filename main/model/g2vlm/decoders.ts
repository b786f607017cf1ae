// Geometry decoders (model doc §7.1–7.2), frames as the batch: point and
// camera decoders (self-attention blocks with RoPE2D), the global decoder
// (self + cross attention to frame 0's LLM hidden), each with its head.
// Inputs: `hidden` (N, P, D) = final-normed DINO rows of the geometry block;
// `rope_cos`/`rope_sin` (P, c) from rope2d.ts; `patch_grid` int64 [h, w].
import type { G2vlmConfig } from '../checkpoint/config';
import { GraphBuilder } from '../graph/graph-builder';
import { attention, gelu, layerNorm, linear, mergeHeads, mlp, splitHeads } from '../graph/ops';
import { cameraHead, localPointsFromRaw, pointHead } from './heads';

export type DecoderKind = 'point' | 'camera' | 'global';

const PREFIX: Record<DecoderKind, string> = {
  point: 'point_decoder',
  camera: 'camera_decoder',
  global: 'global_points_decoder',
};

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
): GraphBuilder {
  const cfg = config.decoders;
  const D = cfg.width;
  const H = cfg.numHeads;
  const c = cfg.headDim;
  const eps = cfg.layerNormEps;
  const g = new GraphBuilder(`${kind}_decoder`);
  g.weightType = weightType;
  const hidden = g.input('hidden', 'float32', ['frames', 'patches', D]);
  const cos = g.input('rope_cos', 'float32', ['patches', c]);
  const sin = g.input('rope_sin', 'float32', ['patches', c]);
  const patchGrid = kind === 'camera' ? '' : g.input('patch_grid', 'int64', [2]);
  const context = kind === 'global' ? g.input('context', 'float32', [1, 'patches', D]) : '';
  const prefix = PREFIX[kind];

  let x = hidden;
  for (let i = 0; i < cfg.depth; i++) {
    const p = `${prefix}.blocks.${i}`;
    const a = layerNorm(g, x, `${p}.norm1`, D, eps);
    const [q, k, v] = g.node('Split', [linear(g, a, `${p}.attn.qkv`, D, 3 * D)], {
      outputs: 3,
      attrs: { axis: -1, num_outputs: 3 },
    });
    const [y] = attention(
      g,
      rope2d(g, splitHeads(g, q, H, c), cos, sin),
      rope2d(g, splitHeads(g, k, H, c), cos, sin),
      splitHeads(g, v, H, c),
    );
    x = g.op('Add', [x, linear(g, mergeHeads(g, y, H, c), `${p}.attn.proj`, D, D)]);
    if (kind === 'global') {
      // Cross attention to frame 0 (computed once, broadcast to every frame).
      const yCtx = layerNorm(g, context, `${p}.norm_y`, D, eps);
      const xq = layerNorm(g, x, `${p}.norm2`, D, eps);
      const cq = rope2d(g, splitHeads(g, linear(g, xq, `${p}.cross_attn.q_proj`, D, D), H, c), cos, sin);
      const batch = g.op('Shape', [cq]);
      const expand = (t: string): string =>
        g.op('Expand', [
          t,
          g.op(
            'Concat',
            [g.op('Slice', [batch, g.constInt64([0]), g.constInt64([1])]), g.constInt64([1, 1, 1])],
            { axis: 0 },
          ),
        ]);
      const ck = expand(
        rope2d(g, splitHeads(g, linear(g, yCtx, `${p}.cross_attn.k_proj`, D, D), H, c), cos, sin),
      );
      const cv = expand(splitHeads(g, linear(g, yCtx, `${p}.cross_attn.v_proj`, D, D), H, c));
      const [cy] = attention(g, cq, ck, cv);
      x = g.op('Add', [x, linear(g, mergeHeads(g, cy, H, c), `${p}.cross_attn.proj`, D, D)]);
      x = g.op('Add', [
        x,
        mlp(
          g,
          layerNorm(g, x, `${p}.norm3`, D, eps),
          { fc1: `${p}.mlp.fc1`, fc2: `${p}.mlp.fc2` },
          D,
          cfg.mlpRatio * D,
          gelu,
        ),
      ]);
    } else {
      x = g.op('Add', [
        x,
        mlp(
          g,
          layerNorm(g, x, `${p}.norm2`, D, eps),
          { fc1: `${p}.mlp.fc1`, fc2: `${p}.mlp.fc2` },
          D,
          cfg.mlpRatio * D,
          gelu,
        ),
      ]);
    }
  }
  g.output(x, `${prefix}_hidden`);
  const outDim = kind === 'camera' ? cfg.cameraOutDim : kind === 'point' ? cfg.pointOutDim : cfg.globalOutDim;
  const out = linear(g, x, `${prefix}.linear_out`, D, outDim);
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
