// Qwen2-VL vision tower + patch merger (model doc §6), one image per run (the
// official attention is full within each image: cu_seqlens per image, aligned).
// Graph inputs: `pixel_values` (N, 1176) rows in merge-window order (from
// preprocess/qwen-image.ts) and the 2-D rotary tables `rotary_cos`/`rotary_sin`
// (1, N, e/2) from `visionRotaryCosSin`. Outputs: `blocks_out` (N, E), the last
// block's output (the merger input), and `vit_out` (N/4, D), the LLM embeddings
// of the image tokens.
import type { G2vlmConfig, VitConfig } from '../checkpoint/config';
import { GraphBuilder, type AttentionForm } from '../graph/graph-builder';
import {
  attention,
  gelu,
  layerNorm,
  linear,
  mergeHeads,
  mlp,
  quickGelu,
  reshape,
  rotary,
  transpose,
} from '../graph/ops';

const V = 'vit_model.';

export const visionTowerInputNames = {
  pixels: 'pixel_values',
  cos: 'rotary_cos',
  sin: 'rotary_sin',
} as const;
export const visionTowerOutputNames = { blocksOut: 'blocks_out', vitOut: 'vit_out' } as const;

/** Values per patch row: channels × temporal patch × patch². */
export function patchRowLength(vit: VitConfig): number {
  return vit.inChannels * vit.temporalPatchSize * vit.patchSize * vit.patchSize;
}

/**
 * cos/sin (1, N, e/2) of the vision rotary for a gh×gw patch grid listed in
 * merge-window order: inv_freq = 1/10000^(2i/(e/2)) (e/4 values, float32), each
 * patch's angles = [row·inv_freq, col·inv_freq] (float32 products); `cat(f, f)`
 * makes the full e, so the first half is what RotaryEmbedding takes.
 */
export function visionRotaryCosSin(
  gridH: number,
  gridW: number,
  headDim: number,
  mergeSize = 2,
): { cos: Float32Array; sin: Float32Array } {
  const dim = headDim / 2;
  const quarter = dim / 2;
  const inv = new Float32Array(quarter);
  for (let i = 0; i < quarter; i++)
    inv[i] = Math.fround(1 / Math.fround(Math.pow(10000, Math.fround((2 * i) / dim))));
  const n = gridH * gridW;
  const cos = new Float32Array(n * dim);
  const sin = new Float32Array(n * dim);
  let row = 0;
  for (let bh = 0; bh < gridH / mergeSize; bh++) {
    for (let bw = 0; bw < gridW / mergeSize; bw++) {
      for (let mh = 0; mh < mergeSize; mh++) {
        for (let mw = 0; mw < mergeSize; mw++) {
          const r = bh * mergeSize + mh;
          const c = bw * mergeSize + mw;
          for (let i = 0; i < quarter; i++) {
            const rowAngle = Math.fround(r * inv[i]);
            const colAngle = Math.fround(c * inv[i]);
            cos[row * dim + i] = Math.cos(rowAngle);
            sin[row * dim + i] = Math.sin(rowAngle);
            cos[row * dim + quarter + i] = Math.cos(colAngle);
            sin[row * dim + quarter + i] = Math.sin(colAngle);
          }
          row++;
        }
      }
    }
  }
  return { cos, sin };
}

export function buildVisionTowerGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
  attentionForm: AttentionForm = 'attention-op',
): GraphBuilder {
  const vit = config.vit;
  const E = vit.embedDim;
  const heads = vit.numHeads;
  const e = vit.headDim;
  const D = vit.outHiddenSize;
  const rowLength = patchRowLength(vit);
  const merge = vit.spatialMergeSize * vit.spatialMergeSize;
  const g = new GraphBuilder('vision_tower');
  g.weightType = weightType;
  g.attentionForm = attentionForm;

  const pixels = g.input(visionTowerInputNames.pixels, 'float32', ['patches', rowLength]);
  const cos = g.input(visionTowerInputNames.cos, 'float32', [1, 'patches', e / 2]);
  const sin = g.input(visionTowerInputNames.sin, 'float32', [1, 'patches', e / 2]);

  // Conv3d with kernel = stride = (2, 14, 14) over one cube per row is a matrix
  // product with the flattened kernel [E, (c, t, py, px)] (no bias).
  const patchKernel = g.weightAsFloat32(`${V}patch_embed.proj.weight`, [E, rowLength]);
  let x = g.op('Gemm', [pixels, patchKernel], { transB: 1 });

  // (N, E) -> (1, heads, N, e)
  const toHeads = (t: string): string => transpose(g, reshape(g, t, [1, -1, heads, e]), [0, 2, 1, 3]);
  for (let i = 0; i < vit.depth; i++) {
    const p = `${V}blocks.${i}.`;
    const a = layerNorm(g, x, `${p}norm1`, E, vit.layerNormEps);
    // qkv columns are laid out [3][heads][e].
    const [q, k, v] = g.node('Split', [linear(g, a, `${p}attn.qkv`, E, 3 * E), g.constInt64([E, E, E])], {
      outputs: 3,
      attrs: { axis: 1 },
    });
    const qr = rotary(g, toHeads(q), cos, sin);
    const kr = rotary(g, toHeads(k), cos, sin);
    const [y] = attention(g, qr, kr, toHeads(v), {
      heads: { query: heads, kv: heads, dim: e },
      scale: 1 / Math.sqrt(e),
    });
    const attended = reshape(g, mergeHeads(g, y, heads, e), [-1, E]);
    x = g.op('Add', [x, linear(g, attended, `${p}attn.proj`, E, E)]);
    const hidden = Math.round(E * vit.mlpRatio);
    const m = mlp(
      g,
      layerNorm(g, x, `${p}norm2`, E, vit.layerNormEps),
      { fc1: `${p}mlp.fc1`, fc2: `${p}mlp.fc2` },
      E,
      hidden,
      quickGelu,
    );
    x = g.op('Add', [x, m]);
  }
  g.output(x, visionTowerOutputNames.blocksOut);

  // PatchMerger: LayerNorm per patch, the 4 rows of each 2×2 window side by side, MLP.
  const merged = reshape(g, layerNorm(g, x, `${V}merger.ln_q`, E, vit.layerNormEps), [-1, merge * E]);
  const h = gelu(g, linear(g, merged, `${V}merger.mlp.0`, merge * E, merge * E));
  g.output(linear(g, h, `${V}merger.mlp.2`, merge * E, D), visionTowerOutputNames.vitOut);
  return g;
}
