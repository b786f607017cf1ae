// DINOv2-with-registers encoder + dino2llm projection (model doc §4).
// Graph inputs: `pixel_values` (N, 3, H, W) normalised; `pos_rows` (h, G) and
// `pos_cols_t` (G, w): the antialiased-bicubic resampling matrices of the
// G×G position table (computed in TS, dino-position.ts), applied as two
// MatMuls so the table stays a weight. Outputs: dino_out (N, P, Dd),
// dino2llm_out (N·P, D), and for checks dino_embeddings / dino_pos_embed.
import type { G2vlmConfig } from '../checkpoint/config';
import { GraphBuilder, type AttentionForm } from '../graph/graph-builder';
import {
  dimOf,
  expandTo,
  shapeOf,
  zerosOf,
  attention,
  gelu,
  layerNorm,
  linear,
  mergeHeads,
  mlp,
  reshape,
  scaleBy,
  splitHeads,
  transpose,
} from '../graph/ops';

const P = 'dino_model.';

export function buildDinoGraph(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16' = 'float32',
  attentionForm: AttentionForm = 'attention-op',
): GraphBuilder {
  const d = config.dino;
  const D = config.text.hiddenSize;
  const Dd = d.hiddenSize;
  const G = d.positionGridSide;
  const R = d.numRegisters;
  const g = new GraphBuilder('dino');
  g.weightType = weightType;
  g.attentionForm = attentionForm;

  const pixels = g.input('pixel_values', 'float32', ['frames', d.numChannels, 'height', 'width']);
  const posRows = g.input('pos_rows', 'float32', ['grid_h', G]);
  const posColsT = g.input('pos_cols_t', 'float32', [G, 'grid_w']);

  // Patch embedding: conv 14/14 -> (N, Dd, h, w) -> (N, P, Dd), row-major over the grid.
  const convW = g.weightAsFloat32(`${P}embeddings.patch_embeddings.projection.weight`, [
    Dd,
    d.numChannels,
    d.patchSize,
    d.patchSize,
  ]);
  const convB = g.weightAsFloat32(`${P}embeddings.patch_embeddings.projection.bias`, [Dd]);
  const conv = g.op('Conv', [pixels, convW, convB], {
    kernel_shape: [d.patchSize, d.patchSize],
    strides: [d.patchSize, d.patchSize],
  });
  const patches = transpose(g, reshape(g, conv, [0, Dd, -1]), [0, 2, 1]);

  // Position table: row 0 for CLS, the G×G grid resampled to (h, w) (doc §4.2).
  const table = g.weightAsFloat32(`${P}embeddings.position_embeddings`, [1, 1 + G * G, Dd]);
  const clsPos = g.op('Slice', [table, g.constInt64([0]), g.constInt64([1]), g.constInt64([1])]);
  const grid = reshape(
    g,
    g.op('Slice', [table, g.constInt64([1]), g.constInt64([1 + G * G]), g.constInt64([1])]),
    [G, G * Dd],
  );
  const byRows = reshape(g, g.op('MatMul', [posRows, grid]), [-1, G, Dd]); // (h, G, Dd)
  const byCols = g.op('MatMul', [transpose(g, byRows, [0, 2, 1]), posColsT]); // (h, Dd, w)
  const patchPos = reshape(g, transpose(g, byCols, [0, 2, 1]), [1, -1, Dd]); // (1, P, Dd)
  g.output(g.op('Concat', [clsPos, patchPos], { axis: 1 }), 'dino_pos_embed');

  // [CLS + pos0, registers (no position), patches + pos] per frame.
  const frames = dimOf(g, pixels, 0);
  const cls = g.op('Add', [g.weightAsFloat32(`${P}embeddings.cls_token`, [1, 1, Dd]), clsPos]);
  const clsRows = expandTo(g, cls, shapeOf(g, [frames, [1, Dd]]));
  const regRows = expandTo(
    g,
    g.weightAsFloat32(`${P}embeddings.register_tokens`, [1, R, Dd]),
    shapeOf(g, [frames, [R, Dd]]),
  );
  const embeddings = g.op('Concat', [clsRows, regRows, g.op('Add', [patches, patchPos])], { axis: 1 });
  g.output(embeddings, 'dino_embeddings');

  // The official packing (doc §4, pitfall 1): all frames as one matrix of
  // N·(1+R+P) rows, attention windows of P rows from the top: window k =
  // rows [kP, (k+1)P). The last N·(1+R) rows are in no window -> zero output.
  const nFrames = dimOf(g, patches, 0);
  const nPatches = dimOf(g, patches, 1);
  const windowRows = g.op('Mul', [nFrames, nPatches]);
  const uncoveredRows = g.op('Mul', [nFrames, g.constInt64([1 + R])]);
  const zeros = zerosOf(g, shapeOf(g, [uncoveredRows, [Dd]]));
  const windowShape = shapeOf(g, [nFrames, nPatches, [Dd]]);
  const windows = (rows: string): string =>
    g.op('Reshape', [g.op('Slice', [rows, g.constInt64([0]), windowRows, g.constInt64([0])]), windowShape]);

  const heads = d.numHeads;
  const hd = d.headDim;
  let x = reshape(g, embeddings, [-1, Dd]);
  for (let i = 0; i < d.numLayers; i++) {
    const p = `${P}encoder.layer.${i}.`;
    const a = layerNorm(g, x, `${p}norm1`, Dd, d.layerNormEps);
    const q = splitHeads(g, windows(linear(g, a, `${p}attention.attention.query`, Dd, Dd)), heads, hd);
    const k = splitHeads(g, windows(linear(g, a, `${p}attention.attention.key`, Dd, Dd)), heads, hd);
    const v = splitHeads(g, windows(linear(g, a, `${p}attention.attention.value`, Dd, Dd)), heads, hd);
    const [y] = attention(g, q, k, v, { heads: { query: heads, kv: heads, dim: hd } });
    const attended = g.op('Concat', [reshape(g, mergeHeads(g, y, heads, hd), [-1, Dd]), zeros], { axis: 0 });
    const o = linear(g, attended, `${p}attention.output.dense`, Dd, Dd);
    x = g.op('Add', [x, scaleBy(g, o, `${p}layer_scale1.lambda1`, Dd)]);
    const m = mlp(
      g,
      layerNorm(g, x, `${p}norm2`, Dd, d.layerNormEps),
      { fc1: `${p}mlp.fc1`, fc2: `${p}mlp.fc2` },
      Dd,
      d.mlpHiddenSize,
      gelu,
    );
    x = g.op('Add', [x, scaleBy(g, m, `${p}layer_scale2.lambda1`, Dd)]);
  }
  const normed = layerNorm(g, x, `${P}layernorm`, Dd, d.layerNormEps);
  const perFrame = g.op('Reshape', [normed, g.op('Shape', [embeddings])]);
  const dinoOut = g.op('Slice', [
    perFrame,
    g.constInt64([1 + R]),
    g.constInt64([1_000_000_000]),
    g.constInt64([1]),
  ]);
  g.output(dinoOut, 'dino_out');
  g.output(reshape(g, linear(g, dinoOut, 'dino2llm', Dd, D), [-1, D]), 'dino2llm_out');
  return g;
}
