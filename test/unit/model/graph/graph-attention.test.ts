// The attention primitive against the flash-attn varlen golden cases: GQA
// head mapping, bottom-right causal with a cache, one-token decode, a
// non-causal block after a cache, uncovered rows. Both forms the converter
// writes: the standard ONNX `Attention` (opset 23, the CPU graphs) and
// MatMul/Softmax (the WebGPU graphs), here run on the CPU.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type AttentionForm } from '../../../../main/model/graph/graph-builder';
import { attention } from '../../../../main/model/graph/ops';
import { createSession, floatTensor } from '../../../../main/model/runtime/session';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import { SHARED_DIR } from '../../../support/shared-dir';

const FILE = 'varlen_attention.safetensors';
const reader = new GoldenTensorReader(`${SHARED_DIR}/golden/primitives`);

/** Rows [start, end) of a (total, H, D) tensor as (1, H, L, D). */
function headsFirst(
  data: Float32Array,
  heads: number,
  dim: number,
  start: number,
  end: number,
): Float32Array {
  const len = end - start;
  const out = new Float32Array(heads * len * dim);
  for (let t = 0; t < len; t++) {
    for (let h = 0; h < heads; h++) {
      out.set(
        data.subarray(((start + t) * heads + h) * dim, ((start + t) * heads + h + 1) * dim),
        (h * len + t) * dim,
      );
    }
  }
  return out;
}

async function attentionSession(
  form: AttentionForm,
  causal: boolean,
  hq: number,
  hk: number,
  d: number,
): Promise<ort.InferenceSession> {
  const g = new GraphBuilder('attention');
  g.attentionForm = form;
  const q = g.input('q', 'float32', [1, hq, 'S', d]);
  const k = g.input('k', 'float32', [1, hk, 'S', d]);
  const v = g.input('v', 'float32', [1, hk, 'S', d]);
  const pk = g.input('past_k', 'float32', [1, hk, 'P', d]);
  const pv = g.input('past_v', 'float32', [1, hk, 'P', d]);
  const [y] = attention(g, q, k, v, {
    heads: { query: hq, kv: hk, dim: d },
    causal,
    pastKey: pk,
    pastValue: pv,
  });
  g.output(y, 'y');
  return (await createSession(g.toModelBytes(() => ({ location: '', offset: 0, length: 0 })))).session;
}

async function runCase(
  name: string,
  form: AttentionForm,
): Promise<{ out: Float32Array; golden: Float32Array }> {
  const q = await reader.readFloat32(FILE, `${name}.q`);
  // Self-attention cases store only q (k = v = q) and one cu_seqlens.
  const selfOnly = !(await reader.has(FILE, `${name}.k`));
  const k = selfOnly ? q : await reader.readFloat32(FILE, `${name}.k`);
  const v = selfOnly ? q : await reader.readFloat32(FILE, `${name}.v`);
  const ids = async (t: string): Promise<number[]> =>
    Array.from((await reader.read(FILE, `${name}.${t}`)).data as BigInt64Array, Number);
  const cuq = selfOnly ? await ids('cu_seqlens') : await ids('cu_seqlens_q');
  const cuk = selfOnly ? cuq : await ids('cu_seqlens_k');
  const causal = selfOnly ? false : Number((await reader.read(FILE, `${name}.causal`)).data[0]) === 1;
  const golden = (await reader.readFloat32(FILE, `${name}.out`)).data;
  const [, hq, d] = q.shape;
  const hk = k.shape[1];
  const session = await attentionSession(form, causal, hq, hk, d);
  // Rows outside every window keep a zero output (the golden convention).
  const out = new Float32Array(golden.length);
  for (let s = 0; s + 1 < cuq.length; s++) {
    const lq = cuq[s + 1] - cuq[s];
    const lk = cuk[s + 1] - cuk[s];
    const past = lk - lq;
    // The cache part of the keys goes in as `past` so causal masking is bottom-right.
    const res = await session.run({
      q: floatTensor(headsFirst(q.data, hq, d, cuq[s], cuq[s + 1]), [1, hq, lq, d]),
      k: floatTensor(headsFirst(k.data, hk, d, cuk[s] + past, cuk[s + 1]), [1, hk, lq, d]),
      v: floatTensor(headsFirst(v.data, hk, d, cuk[s] + past, cuk[s + 1]), [1, hk, lq, d]),
      past_k: floatTensor(headsFirst(k.data, hk, d, cuk[s], cuk[s] + past), [1, hk, past, d]),
      past_v: floatTensor(headsFirst(v.data, hk, d, cuk[s], cuk[s] + past), [1, hk, past, d]),
    });
    const y = res.y.data as Float32Array;
    for (let h = 0; h < hq; h++) {
      for (let t = 0; t < lq; t++) {
        out.set(y.subarray((h * lq + t) * d, (h * lq + t + 1) * d), ((cuq[s] + t) * hq + h) * d);
      }
    }
  }
  await session.release();
  return { out, golden };
}

describe.each<AttentionForm>(['attention-op', 'matmul-softmax'])(
  'attention primitive (%s) vs flash-attn varlen golden',
  (form) => {
    for (const name of [
      'noncausal_3seq_gqa2',
      'causal_prefill_with_cache_gqa2',
      'decode_one_token_gqa4',
      'noncausal_block_after_cache_mha',
      'uncovered_rows',
    ]) {
      it(`matches ${name}`, async () => {
        const { out, golden } = await runCase(name, form);
        const cmp = compareAllclose(out, golden, 1e-5, 1e-5);
        expect(cmp.maxAbs).toBeLessThan(1e-5);
        if (name === 'uncovered_rows')
          expect(Array.from(out.subarray(8 * 2 * 8)).every((x) => x === 0)).toBe(true);
      });
    }
  },
);
