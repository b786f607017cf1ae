// Weight-only quantisation: the block layout ORT's MatMulNBits reads (checked
// by running real ORT sessions against the dequantised float weights), the
// graph rewrite, and a converted int8/int4 golden model against its fp32 run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { residentWeightBytes, RECON_GRAPHS } from '../../../../main/model/engine/memory-estimate';
import { ExternalWeightsWriter } from '../../../../main/model/graph/external-weights';
import { GraphBuilder } from '../../../../main/model/graph/graph-builder';
import { linear } from '../../../../main/model/graph/ops';
import {
  dequantizeBlockwise,
  quantizeBlockwise,
  quantizeLinears,
  quantizePerColumnInt8,
  weightFamily,
  type QuantScheme,
} from '../../../../main/model/graph/quantize';
import { releaseReconModels, runReconstruction } from '../../../../main/model/runtime/recon-pipeline';
import { readModelManifest } from '../../../../main/model/runtime/model-manifest';
import { SHARED_DIR } from '../../../support/shared-dir';

const work = fs.mkdtempSync(join(os.tmpdir(), 'model-quantize-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function randomMatrix(n: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648 - 0.5) * 0.2;
  }
  return out;
}

/** y = x · Wᵀ through ORT with W quantised by `scheme` (the graph the converter writes for a linear). */
async function runQuantizedLinear(
  x: Float32Array,
  M: number,
  w: Float32Array,
  N: number,
  K: number,
  scheme: QuantScheme,
  tag: string,
): Promise<Float32Array> {
  const g = new GraphBuilder(tag);
  const input = g.input('x', 'float32', [M, K]);
  g.output(linear(g, input, 'layer', K, N, { bias: false }), 'y');
  expect(quantizeLinears(g, () => scheme)).toBe(1);
  const dir = join(work, tag);
  fs.mkdirSync(dir);
  const writer = new ExternalWeightsWriter(join(dir, 'w.bin'), 'w.bin');
  const q =
    scheme.op === 'DynamicQuantizeMatMul'
      ? quantizePerColumnInt8(w, N, K)
      : quantizeBlockwise(w, N, K, scheme.bits, scheme.blockSize);
  for (const spec of g.weights) {
    const part = spec.quant!.part === 'data' ? q.data : q.scales;
    writer.write(spec.name, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  }
  writer.close();
  fs.writeFileSync(
    join(dir, 'm.onnx'),
    g.toModelBytes((spec) => writer.locate(spec.name)),
  );
  const session = await ort.InferenceSession.create(join(dir, 'm.onnx'));
  const out = await session.run({ x: new ort.Tensor('float32', x, [M, K]) });
  await session.release();
  return out.y.data as Float32Array;
}

function matmulTransposed(x: Float32Array, M: number, w: Float32Array, N: number, K: number): Float32Array {
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      y[m * N + n] = acc;
    }
  return y;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('block-wise quantisation', () => {
  it('rounds every weight to within half a step of its block scale, padding a ragged last block', () => {
    const N = 3;
    const K = 40; // one full block of 32 and a ragged one of 8
    const w = randomMatrix(N * K, 7);
    for (const bits of [4, 8] as const) {
      const q = quantizeBlockwise(w, N, K, bits, 32);
      expect(q.data.length).toBe((N * 2 * 32 * bits) / 8);
      const back = dequantizeBlockwise(q, N, K, bits, 32);
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          const scale = q.scales[n * 2 + Math.floor(k / 32)];
          expect(Math.abs(back[n * K + k] - w[n * K + k])).toBeLessThanOrEqual(scale / 2 + 1e-7);
        }
    }
  });

  it('MatMulNBits (4 and 8 bits) computes with exactly the dequantised weights (layout check, real ORT)', async () => {
    const M = 5;
    const N = 24;
    const K = 96;
    const x = randomMatrix(M * K, 3);
    const w = randomMatrix(N * K, 11);
    for (const bits of [4, 8] as const) {
      const scheme: QuantScheme = { op: 'MatMulNBits', bits, blockSize: 32, accuracyLevel: 0 };
      const y = await runQuantizedLinear(x, M, w, N, K, scheme, `nbits${bits}`);
      const expected = matmulTransposed(
        x,
        M,
        dequantizeBlockwise(quantizeBlockwise(w, N, K, bits, 32), N, K, bits, 32),
        N,
        K,
      );
      expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
      // …and it is an approximation of the float weights, 8 bits much closer than 4.
      const err = maxAbsDiff(y, matmulTransposed(x, M, w, N, K));
      expect(err).toBeLessThan(bits === 8 ? 2e-3 : 3e-2);
      expect(err).toBeGreaterThan(0);
    }
  });

  it('DynamicQuantizeMatMul with per-column int8 weights approximates the float linear (real ORT)', async () => {
    const M = 4;
    const N = 16;
    const K = 64;
    const x = randomMatrix(M * K, 5);
    const w = randomMatrix(N * K, 13);
    const y = await runQuantizedLinear(x, M, w, N, K, { op: 'DynamicQuantizeMatMul' }, 'dq8');
    expect(maxAbsDiff(y, matmulTransposed(x, M, w, N, K))).toBeLessThan(5e-3);
  });

  it('names the tensor families by their checkpoint names', () => {
    expect(weightFamily('dino_model.encoder.layer.0.mlp.fc1.weight')).toBe('dino');
    expect(weightFamily('language_model.model.layers.3.mlp_moe_geo.up_proj.weight')).toBe('llm_geo');
    expect(weightFamily('language_model.model.layers.3.mlp.up_proj.weight')).toBe('llm_und');
    expect(weightFamily('language_model.lm_head.weight')).toBe('lm_head');
    expect(weightFamily('language_model.model.embed_tokens.weight')).toBe('embed');
    expect(weightFamily('camera_decoder.blocks.0.attn.qkv.weight')).toBe('decoders');
    expect(weightFamily('point_head.proj.weight')).toBe('heads');
    expect(weightFamily('vit_model.blocks.0.attn.qkv.weight')).toBe('vision');
  });
});

describe('converted int8 / int4 models', () => {
  const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
  const names = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
  const frames = names.map((name) => ({ name, bytes: fs.readFileSync(join(GOLDEN, 'inputs/images', name)) }));

  it('store fewer bytes, record their precision, and reconstruct close to fp32', async () => {
    const outputs: Record<string, Float32Array> = {};
    const resident: Record<string, number> = {};
    for (const precision of ['fp32', 'int8', 'int4'] as const) {
      const dir = join(work, `tiny-${precision}`);
      const manifest = await convertCheckpoint(join(GOLDEN, 'checkpoint'), dir, { precision });
      expect(readModelManifest(dir).dtype).toBe(precision);
      resident[precision] = (await residentWeightBytes(dir, manifest.graphs, RECON_GRAPHS))!;
      const out = await runReconstruction({ modelDir: dir, frames });
      expect(out.precision).toBe(precision);
      outputs[precision] = out.worldPoints;
      await releaseReconModels();
    }
    // The tiny model is mostly small float tensors (norms, position tables, heads); the linears shrink 4x / 8x.
    expect(resident.int8).toBeLessThan(resident.fp32 * 0.7);
    expect(resident.int4).toBeLessThan(resident.int8);
    const relRms = (a: Float32Array, b: Float32Array): number => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < b.length; i++) {
        num += (a[i] - b[i]) ** 2;
        den += b[i] ** 2;
      }
      return Math.sqrt(num / den);
    };
    const int8 = relRms(outputs.int8, outputs.fp32);
    const int4 = relRms(outputs.int4, outputs.fp32);
    // The prepacked MatMulNBits computes with int8 activations (accuracy_level 4): on this tiny
    // model their rounding (~0.029 relative RMS for int8 and int4 alike, measured) outweighs the
    // difference between 8- and 4-bit weights, so int4 is not required to be the worse one here.
    expect(int8).toBeGreaterThan(0);
    expect(int8).toBeLessThan(0.06);
    expect(int4).toBeGreaterThan(0);
    expect(int4).toBeLessThan(0.06);
  });
});
