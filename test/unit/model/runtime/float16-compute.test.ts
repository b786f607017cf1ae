// fp16 models on a GPU with f16 shaders run the fp16-compute form of each graph
// (graph/float16-compute.ts, runtime/float16-compute-form.ts): fp16 GEMMs
// straight from the fp16 weights, norms, Softmax, attention scores and the
// residual stream in float32. No CI machine has shader-f16 (SwiftShader lacks
// it), so the forms are checked here on the CPU: every graph the GPU loads is
// rewritten into one ORT accepts, and with G2STUDIO_FLOAT16_COMPUTE=cpu the
// golden reconstruction and chat run through the forms on the CPU provider,
// which computes each fp16 node in float32 between fp16 values — the rounding
// of fp16 storage between ops, not of a GPU's fp16 arithmetic inside one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDecodeGraph } from '../../../../main/model/chat/chat-decoder';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { verifyGolden } from '../../../../main/model/golden/verify-golden';
import { toFloat16Compute } from '../../../../main/model/graph/float16-compute';
import { GraphBuilder } from '../../../../main/model/graph/graph-builder';
import { float32ToHalfBits } from '../../../../main/model/graph/half';
import {
  FLOAT16_COMPUTE_ENV,
  FLOAT16_FORM_SUFFIX,
  float16ComputeFor,
  float16ComputeForm,
} from '../../../../main/model/runtime/float16-compute-form';
import { LlmRunner } from '../../../../main/model/runtime/llm-runner';
import {
  reconModelFor,
  releaseReconModels,
  runReconstruction,
} from '../../../../main/model/runtime/recon-pipeline';
import { releaseChatModel, runChat } from '../../../../main/model/chat/chat-pipeline';
import { ensureTestTokenizer } from '../../../../main/bench/chat-probe';
import { graphIdOfFile } from '../../../../main/model/runtime/node-placement';
import { readModelManifest, type ModelManifest } from '../../../../main/model/runtime/model-manifest';
import { ort } from '../../../../main/model/runtime/ort';
import { createSessionOn, floatTensor } from '../../../../main/model/runtime/session';
import { GOLDEN_RUN_GRAPHS } from '../../../support/golden-run-graphs';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'float16-compute-'));
const fp16Dir = join(work, 'fp16');
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
let manifest: ModelManifest;

/** Runs `body` with G2STUDIO_FLOAT16_COMPUTE set to `value`, restoring it after. */
async function withSetting<T>(value: string, body: () => Promise<T>): Promise<T> {
  const before = process.env[FLOAT16_COMPUTE_ENV];
  process.env[FLOAT16_COMPUTE_ENV] = value;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[FLOAT16_COMPUTE_ENV];
    else process.env[FLOAT16_COMPUTE_ENV] = before;
  }
}

function declared(values: onnx.IValueInfoProto[] | null | undefined): string[] {
  return (values ?? []).map((v) => `${v.name}:${v.type?.tensorType?.elemType}`);
}

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), fp16Dir, { precision: 'fp16' });
  manifest = readModelManifest(fp16Dir);
  // The graphs derived on first use, in their WebGPU forms: the one-graph LLM and the device decode graph.
  const runner = await LlmRunner.load(fp16Dir, manifest, 'cpu', { attentionForm: 'matmul-softmax' });
  await runner.release();
  expect(ensureDecodeGraph(fp16Dir, manifest, true)).toBeDefined();
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the fp16-compute form of fp16 graphs', () => {
  it('rewrites every graph a GPU loads into one ORT accepts: fp16 weights read as they are, critical ops in float32', async () => {
    const files = fs
      .readdirSync(fp16Dir)
      .filter((f) => f.endsWith('.onnx') && !f.endsWith(FLOAT16_FORM_SUFFIX));
    // The converted graphs, their WebGPU variants, the one-graph LLM and the device decode graph.
    for (const expected of [
      'dino.webgpu.onnx',
      'llm_one.webgpu.onnx',
      'chat_decode.device.v1.onnx',
      'lm_head.onnx',
    ])
      expect(files).toContain(expected);
    for (const file of files) {
      const original = onnx.ModelProto.decode(fs.readFileSync(join(fp16Dir, file)));
      const model = onnx.ModelProto.decode(fs.readFileSync(join(fp16Dir, file)));
      const summary = toFloat16Compute(model);
      // Callers see the same graph: inputs and outputs keep their names and float32 types.
      expect(declared(model.graph?.input), file).toEqual(declared(original.graph?.input));
      expect(declared(model.graph?.output), file).toEqual(declared(original.graph?.output));
      // No fp16 weight is widened any more: each is read by the fp16 node itself.
      const halfWeights = new Set(
        (model.graph?.initializer ?? [])
          .filter((i) => i.dataType === FLOAT16 && i.externalData?.length)
          .map((i) => i.name),
      );
      expect(halfWeights.size, file).toBeGreaterThan(0);
      const widening = (model.graph?.node ?? []).filter(
        (n) =>
          n.opType === 'Cast' &&
          halfWeights.has(n.input?.[0]) &&
          n.attribute?.find((a) => a.name === 'to')?.i === FLOAT,
      );
      expect(
        widening.map((n) => n.name),
        file,
      ).toEqual([]);
      expect(summary.weights, file).toBe(
        (original.graph?.node ?? []).filter((n) => n.opType === 'Cast' && halfWeights.has(n.input?.[0]))
          .length,
      );
      // GEMMs over weights run in fp16; norms, Softmax and attention never do.
      if (file !== 'embed_tokens.onnx')
        expect(summary.float16.MatMul ?? summary.float16.Gemm, file).toBeGreaterThan(0);
      for (const critical of ['Softmax', 'LayerNormalization', 'RMSNormalization', 'Attention'])
        expect(summary.float16[critical], `${file} ${critical}`).toBeUndefined();
      if (/webgpu|device/.test(file)) expect(summary.float32.Softmax, file).toBeGreaterThan(0);
      // ORT type-checks the whole graph (Loop bodies included) when it creates a session.
      const path = join(fp16Dir, `check-${file}`);
      fs.writeFileSync(path, onnx.ModelProto.encode(model).finish());
      const session = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
      expect(session.outputNames, file).toEqual(original.graph?.output?.map((o) => o.name));
      await session.release();
      fs.rmSync(path);
    }
  });

  it('reconstructs and answers the golden set within the fp16 tolerances, through the forms (CPU emulation)', async () => {
    const verifyDir = join(work, 'verify');
    const report = await withSetting('cpu', () =>
      verifyGolden(GOLDEN, { dtype: 'fp16', workDir: verifyDir }),
    );
    expect(report.entries.filter((e) => e.skipped).map((e) => e.name)).toEqual([]);
    expect(report.entries.filter((e) => !e.pass).map((e) => `${e.name}: ${e.maxAbs}`)).toEqual([]);
    expect(report.entries.some((e) => e.name.startsWith('chat.'))).toBe(true);
    expect(report.providerNotes.join(' ')).toContain(`${FLOAT16_COMPUTE_ENV}=cpu`);
    // Every graph of the run loaded its form, written beside it.
    const forms = fs
      .readdirSync(join(verifyDir, 'model-fp16'))
      .filter((f) => f.endsWith(FLOAT16_FORM_SUFFIX));
    for (const graph of GOLDEN_RUN_GRAPHS) expect(forms, graph).toContain(`${graph}${FLOAT16_FORM_SUFFIX}`);
    expect(forms.some((f) => f.startsWith('chat_decode'))).toBe(true);
    // Values really were fp16 between ops: the points moved by fp16 rounding (the fp16 graphs as
    // converted compute in float32 and stay within ~1e-4 of the official outputs), yet within tolerance.
    const points = report.entries.find((e) => e.name === 'recon.points')!;
    expect(points.maxAbs).toBeGreaterThan(1e-3);
    expect(points.maxAbs).toBeLessThan(points.atol / 4);
    expect(report.entries.find((e) => e.name === 'chat.decode_argmax_ids')!.maxAbs).toBe(0);
  }, 300_000);

  it('keeps a graph computing in float32, and says why, where its form cannot be written or cannot start', async () => {
    const graph = join(fp16Dir, 'point_decoder.webgpu.onnx');
    const form = graph.replace(/\.onnx$/, FLOAT16_FORM_SUFFIX);
    fs.rmSync(form, { force: true });
    // The temporary file cannot be written (a folder stands where it would go).
    const temp = `${form}.${process.pid}.tmp`;
    fs.mkdirSync(temp);
    const unwritable = float16ComputeForm(graph);
    expect(unwritable.path).toBeUndefined();
    expect(unwritable.note).toMatch(/computes in float32 on the GPU.*could not be written beside it/);
    fs.rmSync(temp, { recursive: true });
    // A file of that name that G2 Studio did not write is neither loaded nor replaced.
    fs.writeFileSync(form, Buffer.from([0xff, 0xff, 0xff, 0x0f]));
    const foreign = await withSetting('cpu', () => createSessionOn(graph, 'cpu'));
    expect(foreign.compute).toBeUndefined();
    expect(foreign.executionProvider).toBe('cpu');
    expect(foreign.fallbackReason).toMatch(
      /computes in float32 .*G2 Studio did not write it, so it was left alone/,
    );
    await foreign.session.release();
    fs.utimesSync(graph, new Date(), new Date(Date.now() + 5000));
    expect(float16ComputeForm(graph).note).toMatch(/left alone/);
    expect(fs.readFileSync(form)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0x0f]));
    fs.rmSync(form);
    expect(float16ComputeForm(graph).path).toBe(form);
    // A form of ours that ORT rejects: the session loads the graph itself and says so.
    const made = fs.readFileSync(form);
    const broken = onnx.ModelProto.decode(made);
    broken.graph!.node![0].opType = 'NoSuchOp';
    fs.writeFileSync(form, onnx.ModelProto.encode(broken).finish());
    fs.utimesSync(form, new Date(), new Date(Date.now() + 6000)); // newer than the graph: current
    const rejected = await withSetting('cpu', () => createSessionOn(graph, 'cpu'));
    expect(rejected.compute).toBeUndefined();
    expect(rejected.fallbackReason).toMatch(
      /point_decoder\.webgpu\.f16\.onnx could not start .*computes in float32/,
    );
    await rejected.session.release();
    fs.writeFileSync(form, made);
    // A stale form of ours (the folder was converted again) is written anew. Its time is set an
    // hour back so that the rewrite is later even where the file system's clock is coarse.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(form, anHourAgo, anHourAgo);
    const written = fs.statSync(form).mtimeMs;
    fs.utimesSync(graph, new Date(), new Date(Date.now() - 1_800_000));
    expect(float16ComputeForm(graph).path).toBe(form);
    expect(fs.statSync(form).mtimeMs).toBeGreaterThan(written);
    const good = await withSetting('cpu', () => createSessionOn(graph, 'cpu'));
    expect(good.compute).toBe('float16');
    expect(good.fallbackReason).toBeUndefined();
    await good.session.release();
    // A float32 graph gains nothing: no form, no note.
    const fp32Graph = join(work, 'plain.onnx');
    const g = new GraphBuilder('plain');
    g.output(g.op('Relu', [g.input('x', 'float32', [2])]), 'y');
    fs.writeFileSync(
      fp32Graph,
      g.toModelBytes(() => ({ location: 'none', offset: 0, length: 0 })),
    );
    expect(float16ComputeForm(fp32Graph)).toEqual({});
  });

  it('runs a reconstruction and a question again in float32 when fp16 compute overflows, and says so', async () => {
    // A copy of the model whose DINO patch weights are all 1000: the patch embedding reaches ~1e6,
    // beyond fp16's 65504, so its fp16 Conv overflows (float32 holds it, and the norms bring it back).
    const dir = join(work, 'overflowing');
    await convertCheckpoint(join(GOLDEN, 'checkpoint'), dir, { precision: 'fp16' });
    ensureTestTokenizer(dir);
    const dino = onnx.ModelProto.decode(fs.readFileSync(join(dir, 'dino.onnx')));
    const patch = dino.graph!.initializer!.find((i) =>
      i.name?.includes('patch_embeddings.projection.weight'),
    )!;
    const field = (key: string) => Number(patch.externalData!.find((e) => e.key === key)!.value);
    const fd = fs.openSync(join(dir, 'weights.bin'), 'r+');
    fs.writeSync(
      fd,
      new Uint16Array(field('length') / 2).fill(float32ToHalfBits(1000)),
      0,
      field('length'),
      field('offset'),
    );
    fs.closeSync(fd);
    const images = ['frame_00019.png', 'frame_00040.png'].map((name) => ({
      name,
      bytes: fs.readFileSync(join(GOLDEN, 'inputs/images', name)),
    }));
    await withSetting('cpu', async () => {
      const recon = await runReconstruction({ modelDir: dir, frames: images, executionProvider: 'cpu' });
      expect(recon.worldPoints.every(Number.isFinite)).toBe(true);
      expect(recon.worldFromCamera.every(Number.isFinite)).toBe(true);
      expect(recon.providerNotes?.join(' ')).toMatch(/fp16 compute overflowed .* compute in float32/);
      // The model kept for the next job is the float32 one.
      expect((await reconModelFor(dir, 'cpu')).computesInFloat16).toBe(false);
      await releaseReconModels();
      // A question on a fresh copy overflows at its first step, before any token is sent: asked again in float32.
      const copy = join(work, 'overflowing-copy');
      fs.cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith(FLOAT16_FORM_SUFFIX) });
      const tokens: string[] = [];
      const fresh = await runChat(
        { modelDir: copy, frames: images.slice(0, 1), question: 'Where is the table?', maxNewTokens: 3 },
        { onToken: (t) => tokens.push(t) },
      );
      expect(fresh.tokenIds.length).toBeGreaterThan(0);
      expect(tokens.join('')).toBe(fresh.answer);
      expect(fresh.providerNotes?.join(' ')).toMatch(/fp16 compute overflowed/);
      await releaseChatModel();
      // A question on the reconstructed folder starts in float32 at once, and answers.
      const answer = await runChat({
        modelDir: dir,
        frames: images.slice(0, 1),
        question: 'Where is the table?',
        maxNewTokens: 3,
      });
      expect(answer.tokenIds.length).toBeGreaterThan(0);
      expect(answer.providerNotes?.join(' ')).toMatch(/fp16 compute overflowed/);
      await releaseChatModel();
    });
  }, 300_000);

  it('clamps a constant beyond fp16 range instead of making it infinite', async () => {
    // y = x·W + (-1e30): the Add reads an fp16 GEMM's output, so it computes in fp16.
    const dir = join(work, 'clamp');
    fs.mkdirSync(dir);
    const g = new GraphBuilder('clamp');
    g.weightType = 'float16';
    const x = g.input('x', 'float32', [1, 2]);
    const w = g.weightAsFloat32('w', [2, 2]);
    g.output(g.op('Add', [g.op('MatMul', [x, w]), g.constScalar(-1e30)]), 'y');
    const weights = new Uint16Array([1, 2, 3, 4].map((v) => float32ToHalfBits(v)));
    fs.writeFileSync(join(dir, 'weights.bin'), weights);
    const model = onnx.ModelProto.decode(
      g.toModelBytes(() => ({ location: 'weights.bin', offset: 0, length: weights.byteLength })),
    );
    const summary = toFloat16Compute(model);
    expect(summary.float16).toEqual({ MatMul: 1, Add: 1, Identity: 1 }); // Identity: the output's name
    fs.writeFileSync(join(dir, 'clamp.onnx'), onnx.ModelProto.encode(model).finish());
    const session = await ort.InferenceSession.create(join(dir, 'clamp.onnx'), { logSeverityLevel: 3 });
    const out = await session.run({ x: floatTensor(new Float32Array([1, 1]), [1, 2]) });
    await session.release();
    // x·W = [4, 6] on fp16's most negative value: finite (unclamped, -1e30 is -inf in fp16 and so is y).
    for (const value of out.y.data as Float32Array) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeLessThan(-65_000);
    }
  });

  it('reports the CPU nodes of a form under its graph', () => {
    expect(graphIdOfFile('dino.webgpu.f16.onnx')).toBe('dino');
    expect(graphIdOfFile('llm_one.webgpu.f16.onnx')).toBe('llm_one');
    expect(graphIdOfFile('embed_tokens.f16.onnx')).toBe('embed_tokens');
    expect(graphIdOfFile('chat_decode.device.v1.f16.onnx')).toBe(graphIdOfFile('chat_decode.device.v1.onnx'));
  });

  it('is used on WebGPU adapters with shader-f16 only, unless set off (or to the CPU for tests)', () => {
    expect(float16ComputeFor('webgpu', true, {})).toBe(true);
    expect(float16ComputeFor('webgpu', false, {})).toBe(false);
    expect(float16ComputeFor('webgpu', null, {})).toBe(false);
    expect(float16ComputeFor('cuda', true, {})).toBe(false);
    expect(float16ComputeFor('cpu', null, {})).toBe(false);
    expect(float16ComputeFor('webgpu', true, { [FLOAT16_COMPUTE_ENV]: 'off' })).toBe(false);
    expect(float16ComputeFor('cpu', null, { [FLOAT16_COMPUTE_ENV]: 'cpu' })).toBe(true);
    expect(float16ComputeFor('webgpu', true, { [FLOAT16_COMPUTE_ENV]: 'cpu' })).toBe(false);
  });
});
