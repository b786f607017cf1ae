// Attention accuracy on an execution provider against a float64 reference:
// the MatMul/Softmax form the WebGPU graph variants use (graph/ops.ts), and
// ORT's fused com.microsoft MultiHeadAttention and GroupQueryAttention, which
// are wrong on SwiftShader from 32 rows with large logits (docs/webgpu.md:
// 0.17 at S=32, 0.45 for GQA at S=64). Whether real GPUs share that fault
// decides whether the fused ops (no score buffers in device memory) are worth
// using there. Runs in the bench's child process (gpu-bench-child.ts), where
// the Vulkan environment of the provider is the process's own.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, MS_DOMAIN } from '../model/graph/graph-builder';
import { attention } from '../model/graph/ops';
import { placementOfGraph } from '../model/runtime/node-placement';
import { ort } from '../model/runtime/ort';
import { createSessionOn, type SessionProvider } from '../model/runtime/session';

export type AttentionForm = 'matmul-softmax' | 'MultiHeadAttention' | 'GroupQueryAttention';

export interface AttentionCase {
  form: AttentionForm;
  queryHeads: number;
  kvHeads: number;
  headDim: number;
  /** New query rows. */
  rows: number;
  /** Cached rows before them (matmul-softmax only). */
  past: number;
  causal: boolean;
}

/** The SwiftShader measurements' shapes (docs/webgpu.md), so the figures compare directly. */
export const ATTENTION_CASES: AttentionCase[] = [
  { form: 'matmul-softmax', queryHeads: 2, kvHeads: 2, headDim: 16, rows: 300, past: 0, causal: false },
  { form: 'matmul-softmax', queryHeads: 4, kvHeads: 2, headDim: 16, rows: 40, past: 260, causal: true },
  ...[16, 32, 300].map((rows) => ({
    form: 'MultiHeadAttention' as const,
    queryHeads: 2,
    kvHeads: 2,
    headDim: 16,
    rows,
    past: 0,
    causal: false,
  })),
  { form: 'MultiHeadAttention', queryHeads: 16, kvHeads: 16, headDim: 64, rows: 300, past: 0, causal: false },
  ...[16, 64, 300].map((rows) => ({
    form: 'GroupQueryAttention' as const,
    queryHeads: 16,
    kvHeads: 4,
    headDim: 64,
    rows,
    past: 0,
    causal: true,
  })),
];

export function attentionCaseName(c: AttentionCase): string {
  const heads = c.queryHeads === c.kvHeads ? `${c.queryHeads}` : `${c.queryHeads}/${c.kvHeads}`;
  const past = c.past > 0 ? ` + ${c.past} past` : '';
  return `${c.form} ${heads} heads of ${c.headDim}, S=${c.rows}${past}${c.causal ? ', causal' : ''}`;
}

export interface AttentionProbeRow {
  name: string;
  provider: SessionProvider;
  /** max |out − float64 reference|; null when the session failed. */
  maxAbs: number | null;
  /** The ops ONNX Runtime ran on the CPU in a GPU session ('' when none); null on the CPU or when unknown. */
  cpuOps: string | null;
  error?: string;
}

/** Deterministic values in ±amplitude (an LCG: the same inputs on every machine). */
function randomValues(count: number, amplitude: number, seed: { value: number }): Float32Array {
  return Float32Array.from({ length: count }, () => {
    seed.value = (seed.value * 1103515245 + 12345) % 2 ** 31;
    return ((seed.value / 2 ** 31) * 2 - 1) * amplitude;
  });
}

/**
 * softmax(q·kᵀ/√d (causal: key j ≤ past + i)) · v in float64; heads-first (H, T, d) arrays.
 * The reference the WebGPU attention test (webgpu-provider.test.ts) holds its primitives to as well.
 */
export function attentionReference(
  c: Omit<AttentionCase, 'form'>,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
): Float64Array {
  const { queryHeads: hq, kvHeads: hk, headDim: d, rows: s } = c;
  const t = c.rows + c.past;
  const out = new Float64Array(hq * s * d);
  const p = new Float64Array(t);
  for (let h = 0; h < hq; h++) {
    const kh = Math.floor(h / (hq / hk));
    for (let i = 0; i < s; i++) {
      const last = c.causal ? c.past + i : t - 1;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        let dot = 0;
        for (let x = 0; x < d; x++) dot += q[(h * s + i) * d + x] * k[(kh * t + j) * d + x];
        p[j] = dot / Math.sqrt(d);
        max = Math.max(max, p[j]);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += p[j] = Math.exp(p[j] - max);
      for (let x = 0; x < d; x++) {
        let acc = 0;
        for (let j = 0; j <= last; j++) acc += p[j] * v[(kh * t + j) * d + x];
        out[(h * s + i) * d + x] = acc / sum;
      }
    }
  }
  return out;
}

/** Rows [from, to) of every head of a heads-first (H, T, d) array. */
function headRows(
  x: Float32Array,
  heads: number,
  t: number,
  d: number,
  from: number,
  to: number,
): Float32Array {
  const out = new Float32Array(heads * (to - from) * d);
  for (let h = 0; h < heads; h++)
    out.set(x.subarray((h * t + from) * d, (h * t + to) * d), h * (to - from) * d);
  return out;
}

/** (H, S, d) heads-first → (S, H·d) rows, the fused ops' 3-D layout. */
function toRows(x: Float32Array, heads: number, s: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < s; i++)
      out.set(x.subarray((h * s + i) * d, (h * s + i + 1) * d), (i * heads + h) * d);
  return out;
}

/** (S, H·d) → (H, S, d). */
function fromRows(x: Float32Array, heads: number, s: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < s; i++)
    for (let h = 0; h < heads; h++)
      out.set(x.subarray((i * heads + h) * d, (i * heads + h + 1) * d), (h * s + i) * d);
  return out;
}

/** The case's attention as a graph (inputs q, k, v and, for MatMul/Softmax, past_k, past_v; output y). */
export function attentionCaseGraph(c: AttentionCase): Uint8Array {
  const { queryHeads: hq, kvHeads: hk, headDim: d } = c;
  const g = new GraphBuilder(c.form.replace(/-/g, '_'));
  let y: string;
  if (c.form === 'matmul-softmax') {
    g.attentionForm = 'matmul-softmax';
    const q = g.input('q', 'float32', [1, hq, 'S', d]);
    const k = g.input('k', 'float32', [1, hk, 'S', d]);
    const v = g.input('v', 'float32', [1, hk, 'S', d]);
    const pastKey = g.input('past_k', 'float32', [1, hk, 'P', d]);
    const pastValue = g.input('past_v', 'float32', [1, hk, 'P', d]);
    [y] = attention(g, q, k, v, {
      heads: { query: hq, kv: hk, dim: d },
      causal: c.causal,
      pastKey,
      pastValue,
    });
  } else if (c.form === 'MultiHeadAttention') {
    const q = g.input('q', 'float32', [1, 'S', hq * d]);
    const k = g.input('k', 'float32', [1, 'S', hk * d]);
    const v = g.input('v', 'float32', [1, 'S', hk * d]);
    y = g.op('MultiHeadAttention', [q, k, v], { num_heads: hq }, MS_DOMAIN);
  } else {
    // Causal by definition; the prompt form (no past): seqlens_k = total − 1.
    const q = g.input('q', 'float32', [1, 'S', hq * d]);
    const k = g.input('k', 'float32', [1, 'S', hk * d]);
    const v = g.input('v', 'float32', [1, 'S', hk * d]);
    const seqlens = g.input('seqlens_k', 'int32', [1]);
    const total = g.input('total_sequence_length', 'int32', []);
    [y] = g.node('GroupQueryAttention', [q, k, v, '', '', seqlens, total], {
      outputs: 3,
      attrs: { num_heads: hq, kv_num_heads: hk },
      domain: MS_DOMAIN,
    });
  }
  g.output(y, 'y');
  return g.toModelBytes(() => {
    throw new Error('the attention probe graphs have no external weights');
  });
}

/** The inputs of attentionCaseGraph from heads-first (H, T, d) q, k, v (the past rows first). */
export function attentionCaseFeeds(
  c: AttentionCase,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
): Record<string, ort.Tensor> {
  const { queryHeads: hq, kvHeads: hk, headDim: d, rows: s, past } = c;
  const t = s + past;
  const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  if (c.form === 'matmul-softmax') {
    return {
      q: f32(q, [1, hq, s, d]),
      k: f32(headRows(k, hk, t, d, past, t), [1, hk, s, d]),
      v: f32(headRows(v, hk, t, d, past, t), [1, hk, s, d]),
      past_k: f32(headRows(k, hk, t, d, 0, past), [1, hk, past, d]),
      past_v: f32(headRows(v, hk, t, d, 0, past), [1, hk, past, d]),
    };
  }
  const rows = {
    q: f32(toRows(q, hq, s, d), [1, s, hq * d]),
    k: f32(toRows(k, hk, s, d), [1, s, hk * d]),
    v: f32(toRows(v, hk, s, d), [1, s, hk * d]),
  };
  if (c.form === 'MultiHeadAttention') return rows;
  return {
    ...rows,
    seqlens_k: new ort.Tensor('int32', Int32Array.from([s - 1]), [1]),
    total_sequence_length: new ort.Tensor('int32', Int32Array.from([s]), []),
  };
}

/** Every case on `provider`: its largest error against float64 and the ops that ran on the CPU. */
export async function probeAttention(provider: SessionProvider): Promise<AttentionProbeRow[]> {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'g2-attention-probe-'));
  const rows: AttentionProbeRow[] = [];
  try {
    for (const [index, c] of ATTENTION_CASES.entries()) {
      const name = attentionCaseName(c);
      const seed = { value: 7 + index };
      const t = c.rows + c.past;
      // Queries and keys ±2 (large logits, where the fused ops failed), values ±1.
      const q = randomValues(c.queryHeads * c.rows * c.headDim, 2, seed);
      const k = randomValues(c.kvHeads * t * c.headDim, 2, seed);
      const v = randomValues(c.kvHeads * t * c.headDim, 1, seed);
      // A file, not bytes: only file sessions on a GPU report their node placement.
      const file = join(dir, `case-${index}.onnx`);
      fs.writeFileSync(file, attentionCaseGraph(c));
      try {
        const { session } = await createSessionOn(file, provider);
        try {
          const out = await session.run(attentionCaseFeeds(c, q, k, v));
          const raw = out.y.data as Float32Array;
          const got = c.form === 'matmul-softmax' ? raw : fromRows(raw, c.queryHeads, c.rows, c.headDim);
          const want = attentionReference(c, q, k, v);
          let maxAbs = 0;
          for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
          if (!Number.isFinite(maxAbs) || got.some((x) => !Number.isFinite(x))) maxAbs = Infinity;
          const placement = placementOfGraph(file);
          const cpuOps = placement
            ? Object.entries(placement.cpuOps)
                .map(([op, n]) => `${op} ${n}`)
                .join(', ')
            : null;
          rows.push({ name, provider, maxAbs, cpuOps });
        } finally {
          await session.release();
        }
      } catch (error) {
        const message = (error as Error).message.replace(/\s+/g, ' ').slice(0, 300);
        rows.push({ name, provider, maxAbs: null, cpuOps: null, error: message });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
