// The op vocabulary the model modules are written with (llama.cpp style: a
// handful of primitives; these know ONNX, the model modules know G2VLM).
// Linear weights are stored pre-transposed ([in, out]) so a linear is a plain
// MatMul + Add. Attention is the standard opset-23 `Attention` op in 4-D form
// (docs/onnx-runtime-notes.md §1): GQA by fewer KV heads, bottom-right causal
// with a past, zeros for fully masked rows; or, in the graphs written for
// WebGPU, the same attention as MatMul/Softmax (docs/webgpu.md).
import { GraphBuilder } from './graph-builder';

export function linear(
  g: GraphBuilder,
  x: string,
  prefix: string,
  inFeatures: number,
  outFeatures: number,
  opts: { bias?: boolean } = {},
): string {
  const w = g.weightAsFloat32(`${prefix}.weight`, [inFeatures, outFeatures], 'transpose');
  const y = g.op('MatMul', [x, w]);
  if (opts.bias === false) return y;
  const b = g.weightAsFloat32(`${prefix}.bias`, [outFeatures]);
  return g.op('Add', [y, b]);
}

export function layerNorm(g: GraphBuilder, x: string, prefix: string, dim: number, eps: number): string {
  const w = g.weightAsFloat32(`${prefix}.weight`, [dim]);
  const b = g.weightAsFloat32(`${prefix}.bias`, [dim]);
  return g.op('LayerNormalization', [x, w, b], { axis: -1, epsilon: { float: eps } });
}

/** RMSNorm over the last axis, `w ⊙ x / sqrt(mean(x²) + eps)` in float32 (Qwen2). */
export function rmsNorm(g: GraphBuilder, x: string, weightName: string, dim: number, eps: number): string {
  const w = g.weightAsFloat32(weightName, [dim]);
  return g.op('RMSNormalization', [x, w], { axis: -1, epsilon: { float: eps } });
}

/** Exact (erf) GELU. */
export function gelu(g: GraphBuilder, x: string): string {
  return g.op('Gelu', [x], { approximate: 'none' });
}

/** x · sigmoid(1.702 x) (Qwen2-VL vision tower). */
export function quickGelu(g: GraphBuilder, x: string): string {
  const s = g.op('Sigmoid', [g.op('Mul', [x, g.constScalar(1.702)])]);
  return g.op('Mul', [x, s]);
}

export function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** Reshape with a literal shape (0 = copy that dim, -1 = infer). */
export function reshape(g: GraphBuilder, x: string, shape: number[]): string {
  return g.op('Reshape', [x, g.constInt64(shape)]);
}

/** The size of `x` along `axis`, as an int64 [1] value (Shape → Slice). */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Slice', [g.op('Shape', [x]), g.constInt64([axis]), g.constInt64([axis + 1])]);
}

/** An int64 shape from runtime sizes (int64 [k] values) and literal sizes, in order. */
export function shapeOf(g: GraphBuilder, parts: Array<string | number[]>): string {
  const pieces = parts.map((part) => (typeof part === 'string' ? part : g.constInt64(part)));
  return pieces.length === 1 ? pieces[0] : g.op('Concat', pieces, { axis: 0 });
}

/** Float zeros of a runtime shape. */
export function zerosOf(g: GraphBuilder, shape: string): string {
  return g.op('ConstantOfShape', [shape]);
}

/** Broadcasts `x` to a runtime shape. */
export function expandTo(g: GraphBuilder, x: string, shape: string): string {
  return g.op('Expand', [x, shape]);
}

export function transpose(g: GraphBuilder, x: string, perm: number[]): string {
  return g.op('Transpose', [x], { perm });
}

/** (B, S, H·d) -> (B, H, S, d). */
export function splitHeads(g: GraphBuilder, x: string, heads: number, headDim: number): string {
  return transpose(g, reshape(g, x, [0, 0, heads, headDim]), [0, 2, 1, 3]);
}

/** (B, H, S, d) -> (B, S, H·d). */
export function mergeHeads(g: GraphBuilder, x: string, heads: number, headDim: number): string {
  return reshape(g, transpose(g, x, [0, 2, 1, 3]), [0, 0, heads * headDim]);
}

/** Head counts and size of an attention: Q (B, query, S, dim), K/V (B, kv, T, dim). */
export interface AttentionHeads {
  query: number;
  /** Fewer than `query` for GQA: query head h uses KV head ⌊h / (query / kv)⌋. */
  kv: number;
  dim: number;
}

export interface AttentionOptions {
  heads: AttentionHeads;
  /** Bool mask broadcastable to (B, Hq, S, T): true where a query sees a key. */
  mask?: string;
  /** Causal, offset by the past: row i sees keys [0, past + i] (bottom-right when K holds the new rows). */
  causal?: boolean;
  pastKey?: string;
  pastValue?: string;
  /** Output names for the present K/V (required by ORT when a past is given). */
  presentKey?: string;
  presentValue?: string;
  /** Default 1/√dim. */
  scale?: number;
}

/**
 * Scaled dot-product attention, Q (B,Hq,S,d), K/V (B,Hk,T,d); GQA when Hk < Hq.
 * Returns [output (B,Hq,S,d), presentKey?, presentValue?]. Written as the
 * graph's `attentionForm` says (graph-builder.ts): the standard Attention op,
 * or MatMul/Softmax for the WebGPU graphs — the same function of the inputs.
 */
export function attention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  opts: AttentionOptions,
): string[] {
  if (g.attentionForm === 'matmul-softmax') return matmulSoftmaxAttention(g, q, k, v, opts);
  const inputs = [q, k, v, opts.mask ?? ''];
  if (opts.pastKey) inputs.push(opts.pastKey, opts.pastValue ?? '');
  while (inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
  const outputs: string[] = [g.fresh('attn')];
  if (opts.presentKey || opts.pastKey) {
    outputs.push(opts.presentKey ?? g.fresh('present_k'), opts.presentValue ?? g.fresh('present_v'));
  }
  return g.node('Attention', inputs, {
    outputs,
    attrs: {
      is_causal: opts.causal ? 1 : 0,
      scale: opts.scale === undefined ? undefined : { float: opts.scale },
    },
  });
}

/**
 * Keys and values laid out for the MatMul form: Kᵀ (B,Hk,d,T) and V, with a
 * group axis for GQA — (B,Hk,1,d,T) and (B,Hk,1,T,d) — so that the queries,
 * viewed as (B,Hk,G,S,d), broadcast over it (no repeated KV heads in memory).
 */
interface MatMulKeys {
  keysT: string;
  values: string;
}

function matmulKeys(g: GraphBuilder, k: string, v: string, heads: AttentionHeads): MatMulKeys {
  const keysT = transpose(g, k, [0, 1, 3, 2]);
  if (heads.kv === heads.query) return { keysT, values: v };
  const groupAxis = g.constInt64([2]);
  return {
    keysT: g.op('Unsqueeze', [keysT, groupAxis]),
    values: g.op('Unsqueeze', [v, groupAxis]),
  };
}

/**
 * What a masked score becomes (plus the score): exp(−1e30 − max) is exactly 0 in
 * float32, and unlike −∞ it survives the `allowed − fill` subtraction below.
 */
const MASKED_SCORE_FILL = 1e30;

/**
 * softmax(Q·scale·Kᵀ (+ causal bias)) · V over prepared keys (matmulKeys). The
 * causal bias is built per call from shapes the GPU provider reads itself
 * (Shape with start/end; Trilu's offset is the past length): a fill on the
 * allowed triangle j ≤ i + past, minus the fill, is 0 there and −fill above it.
 * (The offset is a 1-element int64 tensor; ORT's Trilu, CPU and WebGPU, reads
 * its first value, checked against float64 in webgpu-provider.test.ts.)
 */
function matmulSoftmax(
  g: GraphBuilder,
  q: string,
  keys: MatMulKeys,
  opts: {
    heads: AttentionHeads;
    scale?: number;
    causalPast?: string;
    /** Bool mask broadcastable to the scores: false entries are masked out. */
    allowed?: string;
  },
): string {
  const { query: Hq, kv: Hk, dim: d } = opts.heads;
  const grouped = Hk !== Hq;
  let queries = g.op('Mul', [q, g.constScalar(opts.scale ?? 1 / Math.sqrt(d))]);
  if (grouped) queries = reshape(g, queries, [0, Hk, Hq / Hk, -1, d]);
  let scores = g.op('MatMul', [queries, keys.keysT]);
  if (opts.causalPast !== undefined) {
    const fill = g.constScalar(MASKED_SCORE_FILL);
    const rowsByKeys = g.op('Shape', [scores], { start: -2 });
    const allowed = g.op('Trilu', [expandTo(g, fill, rowsByKeys), opts.causalPast], { upper: 0 });
    scores = g.op('Add', [scores, g.op('Sub', [allowed, fill])]);
  }
  if (opts.allowed !== undefined) {
    const bias = g.op('Where', [opts.allowed, g.constScalar(0), g.constScalar(-MASKED_SCORE_FILL)]);
    scores = g.op('Add', [scores, bias]);
  }
  const y = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), keys.values]);
  return grouped ? reshape(g, y, [0, Hq, -1, d]) : y;
}

function matmulSoftmaxAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  opts: AttentionOptions,
): string[] {
  let keys = k;
  let values = v;
  const present: string[] = [];
  if (opts.pastKey) {
    if (!opts.pastValue) throw new Error('attention: a past key needs a past value');
    // The cache and the new rows: the present K/V the standard op returns.
    [keys] = g.node('Concat', [opts.pastKey, k], {
      outputs: [opts.presentKey ?? g.fresh('present_k')],
      attrs: { axis: 2 },
    });
    [values] = g.node('Concat', [opts.pastValue, v], {
      outputs: [opts.presentValue ?? g.fresh('present_v')],
      attrs: { axis: 2 },
    });
    present.push(keys, values);
  } else if (opts.presentKey || opts.presentValue) {
    present.push(
      g.node('Identity', [k], { outputs: [opts.presentKey ?? g.fresh('present_k')] })[0],
      g.node('Identity', [v], { outputs: [opts.presentValue ?? g.fresh('present_v')] })[0],
    );
  }
  // The causal offset: the past length (the Shape node runs on the GPU provider, its output on the host).
  const causalPast = !opts.causal
    ? undefined
    : opts.pastKey
      ? g.op('Shape', [opts.pastKey], { start: 2, end: 3 })
      : g.constInt64([0]);
  const y = matmulSoftmax(g, q, matmulKeys(g, keys, values, opts.heads), {
    heads: opts.heads,
    scale: opts.scale,
    causalPast,
  });
  return [y, ...present];
}

/**
 * rotate_half rotary embedding on X (B, H, S, d) with per-token cos/sin of
 * shape (B, S, d/2) (the `cat(angle, angle)` layout, so only the first half
 * is fed) — the standard RotaryEmbedding (opset 23), non-interleaved.
 */
export function rotary(g: GraphBuilder, x: string, cosHalf: string, sinHalf: string): string {
  return g.op('RotaryEmbedding', [x, cosHalf, sinHalf], { interleaved: 0 });
}

/** Two-layer MLP `fc2(act(fc1(x)))` with biases. */
export function mlp(
  g: GraphBuilder,
  x: string,
  prefix: { fc1: string; fc2: string },
  dim: number,
  hidden: number,
  act: (g: GraphBuilder, x: string) => string,
): string {
  return linear(g, act(g, linear(g, x, prefix.fc1, dim, hidden)), prefix.fc2, hidden, dim);
}

/** Gated MLP `down(silu(gate(x)) ⊙ up(x))` without biases (Qwen2). */
export function gatedMlp(g: GraphBuilder, x: string, prefix: string, dim: number, hidden: number): string {
  const gate = silu(g, linear(g, x, `${prefix}.gate_proj`, dim, hidden, { bias: false }));
  const up = linear(g, x, `${prefix}.up_proj`, dim, hidden, { bias: false });
  return linear(g, g.op('Mul', [gate, up]), `${prefix}.down_proj`, hidden, dim, { bias: false });
}

/** Element-wise scale by a checkpoint vector (layer scale). */
export function scaleBy(g: GraphBuilder, x: string, weightName: string, dim: number): string {
  return g.op('Mul', [x, g.weightAsFloat32(weightName, [dim])]);
}

export function add(g: GraphBuilder, a: string, b: string): string {
  return g.op('Add', [a, b]);
}

let chunkedCounter = 0;

/**
 * Attention computed over blocks of `chunk` queries (an int64 [1] graph value)
 * in a Loop, so only Hq·chunk·T scores exist at a time instead of Hq·S·T (ORT's
 * Attention materialises the full score matrix). Q (1,Hq,S,d), K/V (1,Hk,T,d)
 * complete (cache included). Queries are zero-padded to a multiple of the
 * chunk; the padded rows are dropped. Non-causal, unless `causal` (an int64 [1]
 * value, 1 = causal) is given and set: then query row i sees keys up to
 * T − S + i (the cache and the block up to itself: the bottom-right causal
 * mask of the Attention op's `is_causal` with a past).
 */
export function queryChunkedAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  chunk: string,
  heads: AttentionHeads,
  causal?: string,
): string {
  const i64 = (values: number[]): string => g.constInt64(values);
  const queries = dimOf(g, q, 2);
  const chunks = g.op('Div', [g.op('Sub', [g.op('Add', [queries, chunk]), i64([1])]), chunk]);
  const padding = g.op('Sub', [g.op('Mul', [chunks, chunk]), queries]);
  const pads = shapeOf(g, [[0, 0, 0, 0, 0, 0], padding, [0]]);
  const padded = g.op('Pad', [q, pads]);

  // Causal mode, outside the loop: key indices (1, T), the cache length, and "not causal".
  let causalParts: { keyIndex: string; past: string; notCausal: string } | undefined;
  if (causal) {
    const keyCount = dimOf(g, k, 2);
    const scalar = (x: string): string => g.op('Squeeze', [x, i64([0])]);
    const keyIndex = g.op('Unsqueeze', [
      g.op('Range', [g.constInt64([0], []), scalar(keyCount), g.constInt64([1], [])]),
      i64([0]),
    ]);
    causalParts = {
      keyIndex,
      past: g.op('Sub', [keyCount, queries]),
      notCausal: g.op('Equal', [causal, i64([0])]),
    };
  }

  const prefix = `${g.name}_qchunk${chunkedCounter++}_`;
  const body = new GraphBuilder(`${prefix}body`, prefix);
  body.attentionForm = g.attentionForm;
  // MatMul form: K transposed (and V grouped) once, outside the Loop, not per block.
  const keys = g.attentionForm === 'matmul-softmax' ? matmulKeys(g, k, v, heads) : undefined;
  const iteration = body.input(`${prefix}iteration`, 'int64', []);
  const condition = body.input(`${prefix}condition`, 'bool', []);
  const start = body.op('Mul', [iteration, chunk]);
  const end = body.op('Add', [start, chunk]);
  const qBlock = body.op('Slice', [padded, start, end, body.constInt64([2])]);
  let mask: string | undefined;
  if (causalParts) {
    // Row r of this block (absolute query index) sees key j when j <= past + r.
    const scalar = (x: string): string => body.op('Squeeze', [x, body.constInt64([0])]);
    const rows = body.op('Range', [scalar(start), scalar(end), body.constInt64([1], [])]);
    const lastKey = body.op('Unsqueeze', [body.op('Add', [rows, causalParts.past]), body.constInt64([1])]);
    const sees = body.op('LessOrEqual', [causalParts.keyIndex, lastKey]); // (chunk, T)
    mask = body.op('Or', [sees, causalParts.notCausal]);
  }
  const y = keys
    ? matmulSoftmax(body, qBlock, keys, { heads, allowed: mask })
    : attention(body, qBlock, k, v, { heads, ...(mask ? { mask } : {}) })[0];
  body.output(body.op('Identity', [condition]), `${prefix}condition_out`, 'bool');
  body.output(y, `${prefix}y`);

  const [stacked] = g.node('Loop', [g.op('Squeeze', [chunks]), ''], {
    outputs: 1,
    attrs: { body: { graph: body } },
  });
  const mergedShape = shapeOf(g, [[0, 0, -1], dimOf(g, v, 3)]);
  const merged = g.op('Reshape', [transpose(g, stacked, [1, 2, 0, 3, 4]), mergedShape]);
  return g.op('Slice', [merged, i64([0]), queries, i64([2])]);
}
