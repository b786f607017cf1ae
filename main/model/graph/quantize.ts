// Weight-only quantisation of the linear layers (docs/onnx-runtime-notes.md §8).
// The model modules build every graph in float; `quantizeLinears` then rewrites
// each `MatMul(x, W)` whose W is a checkpoint linear weight into the quantised
// operator the precision's plan chooses for that weight's family, and the
// converter writes the quantised bytes (streamed, one tensor at a time).
// The choice per family and why: docs/precisions.md.
import { onnx } from 'onnx-proto';
import { MS_DOMAIN, type GraphBuilder, type WeightSpec } from './graph-builder';

import type { Precision } from './precision';

export type { Precision } from './precision';

/** The groups of weights a precision decides about (g2vlm-model.md §1 names). */
export type WeightFamily =
  'dino' | 'llm_und' | 'llm_geo' | 'lm_head' | 'embed' | 'decoders' | 'heads' | 'vision' | 'other';

/** MatMulNBits: symmetric block-wise (zero point implicit 2^(bits-1)); DynamicQuantizeMatMul: int8 per output column. */
export type QuantScheme =
  | { op: 'MatMulNBits'; bits: 4 | 8; blockSize: number; accuracyLevel: number }
  | { op: 'DynamicQuantizeMatMul' };

export function weightFamily(source: string): WeightFamily {
  if (source.startsWith('dino_model.') || source.startsWith('dino2llm')) return 'dino';
  if (source.includes('embed_tokens')) return 'embed';
  if (source.includes('lm_head')) return 'lm_head';
  if (source.startsWith('vit_model.') || source.startsWith('visual.') || source.startsWith('connector.'))
    return 'vision';
  if (source.includes('_decoder.')) return 'decoders';
  if (source.includes('_head.')) return 'heads';
  if (source.includes('language_model.') || source.startsWith('model.layers.')) {
    return source.includes('_moe_geo') ? 'llm_geo' : 'llm_und';
  }
  return 'other';
}

/**
 * The scheme each family gets at a precision (undefined = stays float), from
 * the per-family errors measured on the medium checkpoint (docs/precisions.md):
 * - heads (point / camera): tiny, and they write the outputs directly: float.
 * - embedding table: a Gather table, paged in row by row, never resident: float.
 * - int8: every other linear as 8-bit blocks of 32 (MatMulNBits, accuracy level 4).
 * - int4: 4-bit only where it measured harmless — the understanding expert (and,
 *   by the same role, the LM head and the vision tower, chat-only); DINO, the
 *   geometry expert and the decoders each moved the points by ~50% at 4 bits
 *   and stay 8-bit.
 */
export function quantSchemeFor(precision: Precision, family: WeightFamily): QuantScheme | undefined {
  if (precision !== 'int8' && precision !== 'int4') return undefined;
  if (family === 'heads' || family === 'embed' || family === 'other') return undefined;
  const int8: QuantScheme = { op: 'MatMulNBits', bits: 8, blockSize: 32, accuracyLevel: 4 };
  if (precision === 'int8') return int8;
  const fourBitFamilies: WeightFamily[] = ['llm_und', 'lm_head', 'vision'];
  return fourBitFamilies.includes(family)
    ? { op: 'MatMulNBits', bits: 4, blockSize: 32, accuracyLevel: 4 }
    : int8;
}

/** Storage bytes of a quantised [in=K, out=N] linear weight (data + scales). */
export function quantizedBytes(scheme: QuantScheme, K: number, N: number): number {
  if (scheme.op === 'DynamicQuantizeMatMul') return K * N + 4 * N;
  const blocks = Math.ceil(K / scheme.blockSize);
  return N * blocks * ((scheme.blockSize * scheme.bits) / 8) + 4 * N * blocks;
}

export interface QuantizedWeight {
  data: Uint8Array;
  scales: Float32Array;
}

/**
 * Symmetric block-wise quantisation of W (N rows of K, the checkpoint's
 * [out, in] layout) into MatMulNBits' B (N, ceil(K/block), block·bits/8):
 * q = round(w / s) + 2^(bits-1), s = max|w| / (2^(bits-1) - 1) per block;
 * 4-bit packs the even k in the low nibble. A K that is not a multiple of the
 * block is padded with the zero point (contributes 0).
 */
export function quantizeBlockwise(
  w: Float32Array,
  N: number,
  K: number,
  bits: 4 | 8,
  blockSize: number,
): QuantizedWeight {
  const blocks = Math.ceil(K / blockSize);
  const blockBytes = (blockSize * bits) / 8;
  const zero = 1 << (bits - 1);
  const qmax = zero - 1;
  const data = new Uint8Array(N * blocks * blockBytes);
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let b = 0; b < blocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let amax = 0;
      for (let k = k0; k < k1; k++) amax = Math.max(amax, Math.abs(w[row + k]));
      const scale = amax / qmax;
      const inv = scale > 0 ? 1 / scale : 0;
      scales[n * blocks + b] = scale;
      const out = (n * blocks + b) * blockBytes;
      for (let i = 0; i < blockSize; i++) {
        const k = k0 + i;
        const q = k < k1 ? Math.max(-zero, Math.min(qmax, Math.round(w[row + k] * inv))) + zero : zero;
        if (bits === 8) data[out + i] = q;
        else if ((i & 1) === 0) data[out + (i >> 1)] = q;
        else data[out + (i >> 1)] |= q << 4;
      }
    }
  }
  return { data, scales };
}

/** Symmetric int8 per output column for DynamicQuantizeMatMul: B (K, N) int8, scales (N). W is [N, K]. */
export function quantizePerColumnInt8(w: Float32Array, N: number, K: number): QuantizedWeight {
  const data = new Uint8Array(K * N);
  const q = new Int8Array(data.buffer);
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(w[n * K + k]));
    const scale = amax / 127;
    const inv = scale > 0 ? 1 / scale : 0;
    scales[n] = scale;
    for (let k = 0; k < K; k++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(w[n * K + k] * inv)));
  }
  return { data, scales };
}

/** The float weights a quantised initializer stands for, as ORT computes with them (for tests and error tables). */
export function dequantizeBlockwise(
  qw: QuantizedWeight,
  N: number,
  K: number,
  bits: 4 | 8,
  blockSize: number,
): Float32Array {
  const blocks = Math.ceil(K / blockSize);
  const blockBytes = (blockSize * bits) / 8;
  const zero = 1 << (bits - 1);
  const w = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / blockSize);
      const i = k % blockSize;
      const byte = qw.data[(n * blocks + b) * blockBytes + (bits === 8 ? i : i >> 1)];
      const q = bits === 8 ? byte : (i & 1) === 0 ? byte & 0xf : byte >> 4;
      w[n * K + k] = (q - zero) * qw.scales[n * blocks + b];
    }
  }
  return w;
}

/** Suffixes of the initializers one quantised weight becomes (shared by every graph that uses it). */
function quantName(source: string, scheme: QuantScheme, part: 'data' | 'scales'): string {
  const tag = scheme.op === 'DynamicQuantizeMatMul' ? 'dq8' : `q${scheme.bits}b${scheme.blockSize}`;
  return `${source}::${tag}${part === 'scales' ? '.scales' : ''}`;
}

/**
 * Rewrites the graph's weight MatMuls (a linear's `MatMul(x, W::T)`, possibly
 * through the fp16 Cast) into quantised operators. Returns how many were
 * rewritten. Weights no node reads any more are dropped from the graph.
 */
export function quantizeLinears(
  g: GraphBuilder,
  choose: (family: WeightFamily) => QuantScheme | undefined,
): number {
  const specs = new Map(g.weights.map((w) => [w.name, w]));
  const castOf = new Map<string, string>();
  for (const node of g.nodeList) {
    if (node.opType === 'Cast' && specs.has(node.input?.[0] ?? ''))
      castOf.set(node.output![0], node.input![0]);
  }
  let rewritten = 0;
  g.rewriteNodes((node) => {
    if (node.opType !== 'MatMul' || (node.domain ?? '') !== '') return undefined;
    const b = node.input?.[1] ?? '';
    const spec = specs.get(castOf.get(b) ?? b);
    if (!spec || spec.transform !== 'transpose' || spec.dims.length !== 2) return undefined;
    const scheme = choose(weightFamily(spec.source));
    if (!scheme) return undefined;
    const [K, N] = spec.dims;
    const part = (p: 'data' | 'scales', dims: number[], type: WeightSpec['type']): string =>
      g.registerWeight({
        name: quantName(spec.source, scheme, p),
        source: spec.source,
        transform: 'none',
        dims,
        type,
        quant: { scheme, part: p, K, N },
      });
    rewritten++;
    if (scheme.op === 'DynamicQuantizeMatMul') {
      const data = part('data', [K, N], 'int8');
      const scales = part('scales', [N], 'float32');
      return {
        ...node,
        opType: 'DynamicQuantizeMatMul',
        domain: MS_DOMAIN,
        input: [node.input![0], data, scales],
      };
    }
    const blocks = Math.ceil(K / scheme.blockSize);
    const data = part('data', [N, blocks, (scheme.blockSize * scheme.bits) / 8], 'uint8');
    const scales = part('scales', [N * blocks], 'float32');
    const attr = (name: string, i: number): onnx.IAttributeProto => ({
      name,
      type: onnx.AttributeProto.AttributeType.INT,
      i,
    });
    return {
      ...node,
      opType: 'MatMulNBits',
      domain: MS_DOMAIN,
      input: [node.input![0], data, scales],
      attribute: [
        attr('K', K),
        attr('N', N),
        attr('bits', scheme.bits),
        attr('block_size', scheme.blockSize),
        attr('accuracy_level', scheme.accuracyLevel),
      ],
    };
  });
  if (rewritten > 0) g.pruneUnused();
  return rewritten;
}

/** Quantises a float-built graph's linears as `precision` asks (a no-op for fp32/fp16). */
export function applyPrecision(g: GraphBuilder, precision: Precision): number {
  return quantizeLinears(g, (family) => quantSchemeFor(precision, family));
}
