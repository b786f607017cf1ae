// The WebGPU execution provider without a GPU: Chromium's SwiftShader Vulkan
// driver stands in (docs/webgpu-notes.md). Each case runs in a child process
// with its own Vulkan environment (the Vulkan loader reads it once per process),
// set here rather than in CI configuration. The cases that need SwiftShader are
// skipped where Debian's chromium package is not installed.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isSoftwareVulkanOnly,
  parseDiscoveredDevices,
  plainOrtError,
  webGpuAdapterIsHardware,
} from '../../../../main/model/runtime/provider-probe';
import {
  WEBGPU_FORMS_ON_SOFTWARE_ENV,
  webgpuFormsWanted,
} from '../../../../main/model/runtime/model-manifest';
import { combinedProvider } from '../../../../main/model/runtime/session';
import {
  cpuNodesLine,
  parseVerbosePlacement,
  STALE_WEBGPU_GRAPHS_HINT,
  type NodePlacement,
} from '../../../../main/model/runtime/node-placement';
import { SHARED_DIR } from '../../../support/shared-dir';
import { GOLDEN_RUN_GRAPHS } from '../../../support/golden-run-graphs';
import { REPO_ROOT } from '../../../support/paths';
import { haveSwiftShader, SWIFTSHADER_ICD, swiftShaderEnv } from '../../../support/swiftshader';

const ROOT = REPO_ROOT;
const TSX = join(ROOT, 'node_modules/.bin/tsx');
/** No Vulkan driver at all: the ICD list names a file that does not exist. */
function noAdapterEnv(): NodeJS.ProcessEnv {
  return { ...swiftShaderEnv(), VK_ICD_FILENAMES: '/nonexistent/no_icd.json' };
}

/** Runs a TypeScript snippet in a child process and returns its last stdout line as JSON. */
function runChild(
  code: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<{ out: unknown; stderr: string }> {
  const file = join(fs.mkdtempSync(join(os.tmpdir(), 'wgpu-case-')), 'case.ts');
  fs.writeFileSync(file, code);
  return new Promise((done, fail) => {
    execFile(
      TSX,
      [file],
      { env, cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          done({ out: JSON.parse(last), stderr });
        } catch {
          fail(new Error(`child failed: ${error?.message}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
        }
      },
    );
  });
}

const probeRuntime = join(ROOT, 'main/model/runtime/provider-probe.ts');
const sessionRuntime = join(ROOT, 'main/model/runtime/session.ts');

const AUTO_CASE = `
import { chooseAutoProvider } from ${JSON.stringify(probeRuntime)};
chooseAutoProvider().then((c) => console.log(JSON.stringify({ provider: c.provider, why: c.why, webgpu: c.webgpu, hardware: c.webgpuHardware })));
`;

describe('provider probe rules', () => {
  it('loads the WebGPU graph forms on a hardware adapter, the standard graphs on a software one unless forced', () => {
    const swiftShader = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' };
    expect(webgpuFormsWanted({})).toBe(true);
    expect(webgpuFormsWanted(swiftShader)).toBe(false);
    expect(webgpuFormsWanted({ ...swiftShader, [WEBGPU_FORMS_ON_SOFTWARE_ENV]: '1' })).toBe(true);
  });

  it('reads the devices ORT discovers and recognises software Vulkan drivers', () => {
    const log =
      '[I:onnxruntime:x, device_discovery_common.cc:34 operator()] Discovered OrtHardwareDevice {vendor_id:0x10de, device_id:0x2684, vendor:NVIDIA, type:1, metadata: []}\n' +
      '[I:onnxruntime:x, device_discovery_common.cc:34 operator()] Discovered OrtHardwareDevice {vendor_id:0x1022, device_id:0x0, vendor:AMD, type:0, metadata: []}';
    const devices = parseDiscoveredDevices(log);
    expect(devices).toEqual([
      { vendorId: 0x10de, deviceId: 0x2684, vendor: 'NVIDIA', kind: 'gpu' },
      { vendorId: 0x1022, deviceId: 0, vendor: 'AMD', kind: 'cpu' },
    ]);
    expect(isSoftwareVulkanOnly({ VK_ICD_FILENAMES: SWIFTSHADER_ICD })).toBe(true);
    expect(isSoftwareVulkanOnly({ VK_DRIVER_FILES: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json' })).toBe(
      true,
    );
    expect(isSoftwareVulkanOnly({ VK_ICD_FILENAMES: '/usr/share/vulkan/icd.d/nvidia_icd.json' })).toBe(false);
    expect(isSoftwareVulkanOnly({})).toBe(false);
    const started = { provider: 'webgpu' as const, starts: true, shaderF16: true, devices };
    expect(webGpuAdapterIsHardware(started, {})).toBe(true);
    // A GPU in the machine does not help when Vulkan may only use SwiftShader.
    expect(webGpuAdapterIsHardware(started, { VK_ICD_FILENAMES: SWIFTSHADER_ICD })).toBe(false);
    expect(webGpuAdapterIsHardware({ ...started, devices: [devices[1]] }, {}, 'linux')).toBe(false);
    // Metal has no software adapter; ORT discovers no GPU on an Intel Mac.
    expect(webGpuAdapterIsHardware({ ...started, devices: [] }, {}, 'darwin')).toBe(true);
    expect(webGpuAdapterIsHardware({ ...started, devices: [], starts: false }, {}, 'darwin')).toBe(false);
    expect(webGpuAdapterIsHardware({ ...started, starts: false }, {})).toBe(false);
    expect(
      plainOrtError(
        '/src/webgpu_context.cc:136 Fn() adapter_result.status == Success was false. Failed to get a WebGPU adapter: No supported adapters',
      ),
    ).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(
      cpuNodesLine('webgpu', {
        cpuNodes: { dino: 13, embed_tokens: 0, llm_causal: 9 },
        cpuNodeOps: { dino: { Concat: 4, Attention: 2 }, llm_causal: { Attention: 2 } },
      }),
    ).toBe(
      // An Attention on the CPU: graphs converted before the WebGPU variants (webgpu-graph-variants.test.ts).
      `22 nodes ran on the CPU instead of webgpu: dino 13 (Concat 4, Attention 2); llm_causal 9 (Attention 2). ${STALE_WEBGPU_GRAPHS_HINT}`,
    );
    expect(cpuNodesLine('webgpu', { cpuNodes: { dino: 0, lm_head: 0 } })).toBe(
      'Every node of the 2 graphs ran on webgpu.',
    );
    expect(cpuNodesLine('cpu', { cpuNodes: {} })).toBeUndefined();
    expect(combinedProvider([{ executionProvider: 'webgpu' }, { executionProvider: 'webgpu' }])).toBe(
      'webgpu',
    );
    expect(combinedProvider([{ executionProvider: 'webgpu' }, { executionProvider: 'cpu' }])).toBe(
      'webgpu+cpu',
    );
  });
});

describe.skipIf(!haveSwiftShader)('WebGPU on SwiftShader (no GPU)', () => {
  it('no adapter: auto picks the CPU and says why; no ORT error lines reach the output', async () => {
    const { out, stderr } = await runChild(AUTO_CASE, noAdapterEnv());
    expect(out).toMatchObject({ provider: 'cpu', webgpu: { starts: false } });
    expect((out as { why: string }).why).toMatch(/no WebGPU adapter/);
    expect(stderr).not.toMatch(/\[E:onnxruntime/);
  }, 180_000);

  it('SwiftShader only: the adapter starts (fp32), has no shader-f16, and auto does not pick it unless asked', async () => {
    const { out } = await runChild(AUTO_CASE, swiftShaderEnv());
    expect(out).toMatchObject({
      provider: 'cpu',
      hardware: false,
      // SwiftShader's Vulkan maxMemoryAllocationSize, which Dawn reports as maxBufferSize (1 GiB).
      webgpu: { starts: true, shaderF16: false, maxBufferSize: 2 ** 30 },
    });
    expect((out as { why: string }).why).toMatch(/software renderer/);
    const allowed = await runChild(AUTO_CASE, swiftShaderEnv({ G2STUDIO_WEBGPU_ALLOW_SOFTWARE: '1' }));
    expect(allowed.out).toMatchObject({ provider: 'webgpu' });
  }, 180_000);

  it('a failing GPU session: explicit webgpu is a plain error; under auto it falls back to the CPU and says why', async () => {
    const code = `
import { createSessionOn } from ${JSON.stringify(sessionRuntime)};
import { probeGraph } from ${JSON.stringify(probeRuntime)};
(async () => {
  let explicit = '';
  try { await createSessionOn(probeGraph('fp32'), 'webgpu'); } catch (e) { explicit = (e as Error).message; }
  const fallback = await createSessionOn(probeGraph('fp32'), 'webgpu', {}, true);
  console.log(JSON.stringify({ explicit, ep: fallback.executionProvider, reason: fallback.fallbackReason }));
})();
`;
    const { out } = await runChild(code, noAdapterEnv());
    const result = out as { explicit: string; ep: string; reason: string };
    expect(result.explicit).toMatch(/The WebGPU execution provider could not start/);
    expect(result.ep).toBe('cpu');
    expect(result.reason).toMatch(/runs on the CPU: its WebGPU session failed \(.*adapter/);
  }, 180_000);

  it('counts the nodes ORT runs on the CPU under WebGPU, the same as its verbose placement log says', async () => {
    // A graph with a kernel WebGPU has (MatMul), one it lacks (the standard Attention) and
    // int64 shape arithmetic (no int64 on WebGPU): written to a file, as models are.
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'wgpu-placement-'));
    const file = join(dir, 'mixed.onnx');
    // Profile folders left by other processes (a run killed mid-profile) are not this test's.
    const placementDirs = (): string[] =>
      fs
        .readdirSync(os.tmpdir())
        .filter((f) => f.startsWith('g2-placement-') && fs.readdirSync(join(os.tmpdir(), f)).length > 0);
    const leftBefore = new Set(placementDirs());
    const build = `
import * as fs from 'node:fs';
import { GraphBuilder } from ${JSON.stringify(join(ROOT, 'main/model/graph/graph-builder.ts'))};
import { dimOf, reshape, shapeOf, splitHeads } from ${JSON.stringify(join(ROOT, 'main/model/graph/ops.ts'))};
const g = new GraphBuilder('mixed');
const x = g.input('x', 'float32', [1, 'S', 8]);
const h = g.op('MatMul', [x, g.constFloat(Array.from({ length: 64 }, (_, i) => ((i * 7) % 11) / 11 - 0.5), [8, 8])]);
const q = splitHeads(g, h, 2, 4);
const [y] = g.node('Attention', [q, q, q], { outputs: 1, attrs: { is_causal: 0 } });
const merged = g.op('Reshape', [g.op('Transpose', [y], { perm: [0, 2, 1, 3] }), shapeOf(g, [dimOf(g, x, 0), dimOf(g, x, 1), [8]])]);
g.output(g.op('Add', [merged, reshape(g, x, [1, -1, 8])]), 'y');
fs.writeFileSync(${JSON.stringify(file)}, g.toModelBytes(() => { throw new Error('no weights'); }));
console.log('{}');
`;
    await runChild(build, process.env);
    const placed = `
import { createSession } from ${JSON.stringify(sessionRuntime)};
import { placementOfGraph } from ${JSON.stringify(join(ROOT, 'main/model/runtime/node-placement.ts'))};
import { attentionCaseFeeds, attentionCaseGraph, attentionReference } from ${JSON.stringify(join(ROOT, 'main/bench/attention-probe.ts'))};
import { ort } from ${JSON.stringify(join(ROOT, 'main/model/runtime/ort.ts'))};
(async () => {
  const { session, executionProvider } = await createSession(${JSON.stringify(file)}, 'webgpu');
  const before = placementOfGraph(${JSON.stringify(file)}) ?? null;
  const x = new ort.Tensor('float32', Float32Array.from({ length: 40 }, (_, i) => Math.sin(i)), [1, 5, 8]);
  await session.run({ x });
  await session.run({ x });
  const after = placementOfGraph(${JSON.stringify(file)});
  await session.release();
  console.log(JSON.stringify({ executionProvider, before, after }));
})();
`;
    const verbose = `
const ort = require(${JSON.stringify(join(ROOT, 'node_modules/onnxruntime-node'))});
ort.env.logLevel = 'verbose';
ort.InferenceSession.create(${JSON.stringify(file)}, { executionProviders: ['webgpu', 'cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 0, logVerbosityLevel: 0 })
  .then((s) => s.release()).then(() => console.log('{}'));
`;
    const profiled = await runChild(placed, swiftShaderEnv());
    const verboseFile = join(dir, 'verbose.cjs');
    fs.writeFileSync(verboseFile, verbose);
    const log = await new Promise<string>((done) =>
      execFile(
        process.execPath,
        [verboseFile],
        { env: swiftShaderEnv(), cwd: ROOT, maxBuffer: 64 * 2 ** 20 },
        (_e, out, err) => done(`${out}\n${err}`),
      ),
    );
    const fromLog = parseVerbosePlacement(log);
    const result = profiled.out as { executionProvider: string; before: null; after: NodePlacement };
    expect(result.executionProvider).toBe('webgpu');
    expect(result.before).toBeNull(); // known only once the session has run
    expect(result.after.cpuOps.Attention).toBe(1);
    expect(result.after.cpuOps.MatMul).toBeUndefined();
    expect(result.after.gpuNodes).toBeGreaterThan(0);
    // The profile of the first run and ORT's own placement log agree node for node.
    expect(result.after.cpuOps).toEqual(fromLog.cpuOps);
    expect(result.after.cpuNodes).toBe(fromLog.cpuNodes);
    // The profile files are gone after the first run.
    expect(placementDirs().filter((f) => !leftBefore.has(f))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('runs MatMul/Softmax attention on the GPU exactly where its MultiHeadAttention is wrong (S ≥ 32, large logits)', async () => {
    // The attention of the WebGPU graph variants (graph/ops.ts), on the WebGPU provider, against a
    // float64 reference: MHA-shaped (2 heads of 16, non-causal) and the LLM's GQA (4 query / 2 KV
    // heads, causal with a past). ORT 1.30's WebGPU MultiHeadAttention is off by 0.17 at S=32 here.
    const code = `
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { createSession } from ${JSON.stringify(sessionRuntime)};
import { placementOfGraph } from ${JSON.stringify(join(ROOT, 'main/model/runtime/node-placement.ts'))};
import { attentionCaseFeeds, attentionCaseGraph, attentionReference } from ${JSON.stringify(join(ROOT, 'main/bench/attention-probe.ts'))};
let seed = 7;
const random = (n: number, amp: number) => Float32Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return (seed / 2 ** 31 * 2 - 1) * amp; });
(async () => {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'wgpu-attn-'));
  const results: Record<string, unknown> = {};
  for (const [name, hq, hk, causal, s, past] of [['mha', 2, 2, false, 300, 0], ['gqa_causal_past', 4, 2, true, 40, 260]] as const) {
    const d = 16;
    const c = { form: 'matmul-softmax', queryHeads: hq, kvHeads: hk, headDim: d, rows: s, past, causal } as const;
    const file = join(dir, name + '.onnx');
    fs.writeFileSync(file, attentionCaseGraph(c));
    const { session, executionProvider } = await createSession(file, 'webgpu');
    const t = s + past;
    const [qa, ka, va] = [random(hq * s * d, 2), random(hk * t * d, 2), random(hk * t * d, 1)];
    const out = await session.run(attentionCaseFeeds(c, qa, ka, va));
    const got = out.y.data as Float32Array;
    const want = attentionReference(c, qa, ka, va);
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    results[name] = { executionProvider, maxAbs, placement: placementOfGraph(file) };
    await session.release();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(results));
})();
`;
    const { out } = await runChild(code, swiftShaderEnv());
    const results = out as Record<
      string,
      { executionProvider: string; maxAbs: number; placement: NodePlacement }
    >;
    for (const name of ['mha', 'gqa_causal_past']) {
      const r = results[name];
      expect(r.executionProvider, name).toBe('webgpu');
      // The CPU's own error against float64 is ~3e-7 on these inputs.
      expect(r.maxAbs, name).toBeLessThan(2e-6);
      // Every node of the attention on the GPU: the causal offset is a Shape the GPU provider reads.
      expect(r.placement.cpuNodes, name).toBe(0);
      expect(r.placement.gpuNodes, name).toBeGreaterThan(4);
    }
  }, 180_000);

  it('refuses a WebGPU reconstruction (and a question) whose largest tensor is over the adapter buffer limit, naming the frames that fit', async () => {
    const code = `
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from ${JSON.stringify(join(ROOT, 'main/model/convert/convert-checkpoint.ts'))};
import { EngineClient } from ${JSON.stringify(join(ROOT, 'main/model/engine/engine-client.ts'))};
import { estimateGpuReconstructionMemory, gpuLimits } from ${JSON.stringify(join(ROOT, 'main/model/engine/gpu-memory-estimate.ts'))};
import { gpuProviderProbe } from ${JSON.stringify(probeRuntime)};
import { decodeRgb } from ${JSON.stringify(join(ROOT, 'main/model/preprocess/dino-image.ts'))};
(async () => {
  const modelDir = join(fs.mkdtempSync(join(os.tmpdir(), 'wgpu-refuse-')), 'model');
  await convertCheckpoint(${JSON.stringify(`${SHARED_DIR}/golden/g2vlm-tiny-a/checkpoint`)}, modelDir, { precision: 'fp32' });
  const golden = ${JSON.stringify(`${SHARED_DIR}/golden/g2vlm-tiny-a`)};
  const image = JSON.parse(fs.readFileSync(join(golden, 'manifest.json'), 'utf8')).recon.images[0];
  const bytes = new Uint8Array(fs.readFileSync(join(golden, image)));
  const frames = Array.from({ length: 600 }, (_, i) => ({ name: 'frame' + i, bytes }));
  const client = new EngineClient();
  let error = { code: '', message: '' };
  try {
    await client.reconstruct({ modelDir, frames, executionProvider: 'webgpu' }, { signal: new AbortController().signal, onProgress: () => {} });
  } catch (e) { error = { code: (e as { code: string }).code, message: (e as Error).message }; }
  let chatError = { code: '', message: '' };
  try {
    await client.chat({ modelDir, frames, question: 'How far is the chair from the door?', executionProvider: 'webgpu' }, { signal: new AbortController().signal, onProgress: () => {}, onToken: () => {} });
  } catch (e) { chatError = { code: (e as { code: string }).code, message: (e as Error).message }; }
  await client.close();
  const probe = await gpuProviderProbe('webgpu');
  const limits = await gpuLimits('webgpu', probe);
  const meta = await decodeRgb(bytes, image);
  const estimate = await estimateGpuReconstructionMemory(modelDir, 600, meta.width, meta.height, limits);
  const atMax = await estimateGpuReconstructionMemory(modelDir, estimate.maxFrames, meta.width, meta.height, limits);
  const above = await estimateGpuReconstructionMemory(modelDir, estimate.maxFrames + 1, meta.width, meta.height, limits);
  console.log(JSON.stringify({ error, chatError, limits, maxFrames: estimate.maxFrames, atMax: atMax.fits, above: above.breakdown.largestTensor.bytes }));
})();
`;
    const { out } = await runChild(code, swiftShaderEnv());
    const r = out as {
      error: { code: string; message: string };
      chatError: { code: string; message: string };
      limits: { maxBufferSize: number };
      maxFrames: number;
      atMax: boolean;
      above: number;
    };
    expect(r.limits.maxBufferSize).toBe(2 ** 30);
    expect(r.maxFrames).toBeGreaterThan(1);
    expect(r.maxFrames).toBeLessThan(600);
    expect(r.atMax).toBe(true);
    expect(r.above).toBeGreaterThan(2 ** 30);
    expect(r.error.code).toBe('insufficient-memory');
    expect(r.error.message).toContain('buffer limit');
    expect(r.error.message).toContain(`the largest number of frames that fits is ${r.maxFrames}`);
    // A question over the same frames is checked against the adapter too, before any session loads.
    expect(r.chatError.code).toBe('insufficient-memory');
    expect(r.chatError.message).toMatch(
      /^A question over 600 frames on the GPU \(WebGPU\) does not fit: .*buffer limit/,
    );
  }, 180_000);

  // The whole tiny-a model (reconstruction and chat) on SwiftShader, under the heavy-work lock.
  // SwiftShader is a CPU rasteriser: with attention on the "GPU" (the WebGPU graph variants) the
  // decoders' 16-head 777×777 scores cost ~1 µs an element, so the run takes 15 CPU-minutes
  // (23-40 min wall on a loaded 2-core machine; docs/webgpu.md), against 279 s when the CPU ran it.
  it('g2studio --provider webgpu model verify-golden passes on g2vlm-tiny-a and names the provider', async () => {
    const cli = join(ROOT, 'out/main/cli.js');
    expect(fs.existsSync(cli), 'npm run build first').toBe(true);
    const golden = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
    const stdout = await new Promise<string>((done, fail) =>
      execFile(
        process.execPath,
        [join(ROOT, 'bin/g2studio.js'), '--provider', 'webgpu', 'model', 'verify-golden', golden, '--json'],
        { env: swiftShaderEnv(), timeout: 900_000, maxBuffer: 64 * 2 ** 20 },
        (error, out, err) =>
          out.trim() ? done(out) : fail(new Error(`${error?.message}\n${err.slice(-3000)}`)),
      ),
    );
    const report = JSON.parse(stdout) as {
      pass: boolean;
      executionProvider: string;
      providerNotes: string[];
      cpuNodes: Record<string, number>;
      cpuNodeOps: Record<string, Record<string, number>>;
      failed: number;
      entries: Array<{ name: string; pass: boolean; skipped?: string; maxAbs: number }>;
    };
    expect(report.executionProvider).toBe('webgpu');
    expect(report.providerNotes).toEqual([]);
    // Every graph that ran is counted (the LLM's blocks all run through llm_one). On a software
    // adapter the standard graphs run on purpose (model-manifest.ts webgpuFormsWanted: SwiftShader
    // computes attention ~600x slower than the CPU kernel), so their Attention is on the CPU; the
    // WebGPU forms' numerics on SwiftShader are the MatMul/Softmax case above, and their graphs
    // are checked on the CPU (webgpu-graph-variants, shared-weight-sessions).
    for (const graph of GOLDEN_RUN_GRAPHS) expect(report.cpuNodes[graph], graph).toBeGreaterThanOrEqual(0);
    expect(report.cpuNodeOps.dino.Attention).toBeGreaterThan(0);
    expect(report.cpuNodeOps.llm_one.Loop).toBe(2);
    expect(report.cpuNodes.embed_tokens).toBe(0);
    const compared = report.entries.filter((e) => !e.skipped);
    expect(compared.filter((e) => !e.pass).map((e) => e.name)).toEqual([]);
    expect(compared.some((e) => e.name === 'recon.points')).toBe(true);
    expect(compared.some((e) => e.name === 'chat.decode_argmax_ids')).toBe(true);
    expect(report.pass).toBe(true);
  }, 1_000_000);
});
