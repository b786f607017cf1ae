// Which GPU execution providers start on this machine, found once per process
// and quietly. The probe runs in a child process because (1) a provider that
// fails to load makes ONNX Runtime print red error lines on the process's own
// stderr, which we cannot silence from JavaScript, and (2) the facts we need
// (the hardware devices ORT discovered, shader-f16) only appear in ORT's log,
// which the child captures. The Node binding does not expose WebGPU's
// GPUAdapterInfo, so "is the adapter a real GPU" is inferred (see
// isSoftwareVulkanOnly and webGpuAdapterIsHardware); docs/webgpu-notes.md.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GraphBuilder } from '../graph/graph-builder';

export type GpuProviderName = 'webgpu' | 'cuda';

/** One hardware device ONNX Runtime's device discovery found (PCI/DRM on Linux, DXCore on Windows). */
export interface DiscoveredDevice {
  vendorId: number;
  deviceId: number;
  vendor: string;
  kind: 'cpu' | 'gpu' | 'npu';
}

export interface GpuProviderProbe {
  provider: GpuProviderName;
  /** A session on this provider was created and ran a small graph with CPU-equal results. */
  starts: boolean;
  /** Why it did not start (ORT's message, shortened). */
  error?: string;
  /** WebGPU only: the adapter runs f16 shaders (shader-f16); null when not checked. */
  shaderF16: boolean | null;
  /**
   * WebGPU only: the device's largest buffer in bytes (Dawn's maxBufferSize, which
   * ORT requests at the adapter's maximum); null when not read.
   */
  maxBufferSize?: number | null;
  devices: DiscoveredDevice[];
}

/** The probe graph: MatMul + Softmax, small enough to run anywhere in milliseconds. */
export function probeGraph(precision: 'fp32' | 'fp16'): Uint8Array {
  const g = new GraphBuilder(`provider_probe_${precision}`);
  const x = g.input('x', 'float32', [2, 4]);
  const w = g.constFloat([0.5, -1, 2, 0.25, 1, 0, -0.5, 1.5, 2, 1, 0, -1, 0.1, 0.2, 0.3, 0.4], [4, 4]);
  let y: string;
  if (precision === 'fp16') {
    // Cast to f16 and back: the WebGPU kernels need shader-f16 to run this.
    y = g.op('Cast', [g.op('MatMul', [g.op('Cast', [x], { to: 10 }), g.op('Cast', [w], { to: 10 })])], {
      to: 1,
    });
  } else {
    y = g.op('MatMul', [x, w]);
  }
  g.output(g.op('Softmax', [y], { axis: -1 }), 'y');
  return g.toModelBytes(() => {
    throw new Error('the probe graph has no external weights');
  });
}

/**
 * The buffer-limit graph: one float buffer of a runtime element count. Asked
 * for far more than any adapter allows, Dawn refuses the buffer while
 * validating it, before anything is allocated, and names its limit:
 * "Buffer size (N) exceeds the max buffer size limit (L)". The Node binding
 * exposes no adapter limits, so this is how the probe learns maxBufferSize.
 */
export function bufferLimitGraph(): Uint8Array {
  const g = new GraphBuilder('buffer_limit_probe');
  const x = g.input('x', 'float32', [1]);
  const count = g.input('count', 'int64', [1]);
  const filled = g.op('Add', [g.op('Expand', [x, count]), g.constFloat([1])]);
  g.output(g.op('ReduceMax', [filled], { keepdims: 0 }), 'y');
  return g.toModelBytes(() => {
    throw new Error('the buffer-limit graph has no external weights');
  });
}

/**
 * Floats the buffer-limit graph asks for: 4 GiB, above Dawn's maxBufferSize on
 * D3D12/D3D11/OpenGL (2 GiB), NVIDIA Vulkan (4 GiB − 4) and SwiftShader (1 GiB).
 * Larger requests trip ORT's own 32-bit size checks before Dawn sees them. An
 * adapter that allows 4 GiB allocates it for a moment (in the probe's child);
 * the probe then reports no limit below 4 GiB. Not asked on macOS, where
 * Metal's limit is a share of the (unified) memory.
 */
export const BUFFER_LIMIT_PROBE_ELEMENTS = 2 ** 30;

/** The largest size the buffer-limit probe can tell apart (4 GiB). */
export const BUFFER_LIMIT_PROBE_BYTES = BUFFER_LIMIT_PROBE_ELEMENTS * 4;

/** Dawn's limit from its validation message, or null. */
export function parseMaxBufferSize(message: string): number | null {
  const match = /exceeds the max buffer size limit \((\d+)\)/.exec(message);
  return match ? Number(match[1]) : null;
}

/** The probe's outcome: Dawn's limit, the probe size when the buffer was allowed, or null (not read). */
function maxBufferSizeFrom(limitMessage: string | undefined): number | null {
  if (limitMessage === 'no limit below the probe size') return BUFFER_LIMIT_PROBE_BYTES;
  return parseMaxBufferSize(limitMessage ?? '');
}

/** Parses ORT's "Discovered OrtHardwareDevice {vendor_id:0x10de, device_id:0x2684, vendor:NVIDIA, type:1, …}" lines. */
export function parseDiscoveredDevices(log: string): DiscoveredDevice[] {
  const devices: DiscoveredDevice[] = [];
  const pattern =
    /Discovered OrtHardwareDevice \{vendor_id:(0x[0-9a-fA-F]+), device_id:(0x[0-9a-fA-F]+), vendor:([^,]*), type:(\d)/g;
  for (const m of log.matchAll(pattern)) {
    const kind = m[4] === '1' ? 'gpu' : m[4] === '2' ? 'npu' : 'cpu';
    devices.push({ vendorId: Number(m[1]), deviceId: Number(m[2]), vendor: m[3].trim(), kind });
  }
  return devices;
}

/**
 * True when the Vulkan loader is pointed only at software drivers
 * (SwiftShader, lavapipe/llvmpipe), so Dawn's adapter cannot be a GPU even
 * if the machine has one.
 */
export function isSoftwareVulkanOnly(env: NodeJS.ProcessEnv): boolean {
  const files = (env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES ?? '').split(/[:;]/).filter(Boolean);
  return files.length > 0 && files.every((f) => /swiftshader|lvp_|lavapipe|llvmpipe/i.test(f));
}

/**
 * Whether a WebGPU adapter that started is a real GPU: ORT found a GPU device
 * and the Vulkan loader is not restricted to software drivers. Dawn asks for
 * the high-performance adapter, which prefers a GPU over a CPU rasteriser.
 * On macOS Dawn runs on Metal, which has no software adapter, while ORT's
 * device discovery there only knows Apple silicon: an Intel Mac's GPU counts too.
 */
export function webGpuAdapterIsHardware(
  probe: GpuProviderProbe,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (!probe.starts || isSoftwareVulkanOnly(env)) return false;
  return platform === 'darwin' || probe.devices.some((d) => d.kind === 'gpu');
}

/** Runs in the child: loads ORT, logs device discovery, creates and runs the probe graphs. */
const CHILD_SCRIPT = `
process.env.ORT_DISABLE_TELEMETRY = '1';
const [ortPath, provider, f32, f16, limitGraph, limitCount] = process.argv.slice(-6);
const result = { starts: false, shaderF16: null, maxBufferSize: null };
(async () => {
  const ort = require(ortPath);
  ort.env.logLevel = 'info';
  const x = new Float32Array([0.1, 0.2, 0.3, 0.4, -1, 0.5, 2, 0]);
  const run = async (bytes, ep) => {
    const s = await ort.InferenceSession.create(Buffer.from(bytes, 'base64'), { executionProviders: [ep], logSeverityLevel: 4 });
    try { return Array.from((await s.run({ x: new ort.Tensor('float32', x, [2, 4]) })).y.data); } finally { await s.release(); }
  };
  const close = (a, b, tol) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol);
  try {
    const want = await run(f32, 'cpu');
    result.starts = close(await run(f32, provider), want, 1e-4);
    if (!result.starts) result.error = 'results differ from the CPU provider';
    if (result.starts && provider === 'webgpu') {
      try { result.shaderF16 = close(await run(f16, provider), want, 1e-2); } catch { result.shaderF16 = false; }
      if (limitCount !== '0') try {
        const s = await ort.InferenceSession.create(Buffer.from(limitGraph, 'base64'), { executionProviders: [provider], logSeverityLevel: 4 });
        // Twice: Dawn names its limit from the second refusal on (the first is reported as a failed allocation).
        try {
          for (let i = 0; i < 2; i++) {
            try {
              await s.run({ x: new ort.Tensor('float32', new Float32Array([0]), [1]), count: new ort.Tensor('int64', new BigInt64Array([BigInt(limitCount)]), [1]) });
              result.limitMessage = 'no limit below the probe size';
              break;
            } catch (e) { result.limitMessage = String(e && e.message || e).slice(0, 2000); }
          }
        } finally { await s.release(); }
      } catch {}
    }
  } catch (e) { result.error = String(e && e.message || e); }
  process.stdout.write('\\n@@probe ' + JSON.stringify(result) + '\\n');
})();
`;

/** Shortens ORT's "file.cc:123 Fn(...) cond was false. Message" to the message. */
export function plainOrtError(message: string): string {
  const tail = /was false\.\s*(.+)$/s.exec(message)?.[1] ?? message;
  return tail.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Probes one GPU provider in a child process; never throws, prints nothing. */
export function probeGpuProvider(
  provider: GpuProviderName,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<GpuProviderProbe> {
  let ortPath: string;
  try {
    ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (error) {
    return Promise.resolve({
      provider,
      starts: false,
      error: `onnxruntime-node is not installed: ${(error as Error).message}`,
      shaderF16: null,
      devices: [],
    });
  }
  const args = [
    '-e',
    CHILD_SCRIPT,
    ortPath,
    provider,
    Buffer.from(probeGraph('fp32')).toString('base64'),
    Buffer.from(probeGraph('fp16')).toString('base64'),
    Buffer.from(bufferLimitGraph()).toString('base64'),
    process.platform === 'darwin' ? '0' : String(BUFFER_LIMIT_PROBE_ELEMENTS),
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      // ELECTRON_RUN_AS_NODE: under Electron, execPath is the app; run it as plain Node.
      {
        env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
        timeout: timeoutMs,
        maxBuffer: 16 * 2 ** 20,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const devices = parseDiscoveredDevices(`${stdout}\n${stderr}`);
        const line = /@@probe (\{.*\})/.exec(stdout)?.[1];
        if (!line) {
          const why = error?.killed
            ? `the probe took longer than ${timeoutMs / 1000} s`
            : (error?.message ?? 'no result');
          resolve({ provider, starts: false, error: plainOrtError(why), shaderF16: null, devices });
          return;
        }
        const parsed = JSON.parse(line) as {
          starts: boolean;
          shaderF16: boolean | null;
          limitMessage?: string;
          error?: string;
        };
        resolve({
          provider,
          starts: parsed.starts,
          shaderF16: parsed.shaderF16,
          ...(provider === 'webgpu' ? { maxBufferSize: maxBufferSizeFrom(parsed.limitMessage) } : {}),
          devices,
          ...(parsed.error ? { error: plainOrtError(parsed.error) } : {}),
        });
      },
    );
  });
}

const probes = new Map<GpuProviderName, Promise<GpuProviderProbe>>();

/** The probe of a provider, run once per process (the hardware does not change while it runs). */
export function gpuProviderProbe(provider: GpuProviderName): Promise<GpuProviderProbe> {
  let probe = probes.get(provider);
  if (!probe) {
    probe = probeGpuProvider(provider);
    probes.set(provider, probe);
  }
  return probe;
}

/** Set to 1 to let `auto` use a software WebGPU adapter (SwiftShader, lavapipe): for tests and debugging only. */
export const ALLOW_SOFTWARE_WEBGPU_ENV = 'G2STUDIO_WEBGPU_ALLOW_SOFTWARE';

/** Where install-cuda puts ORT's CUDA provider library (null when onnxruntime-node is missing). */
export function cudaProviderLibrary(): string | null {
  try {
    const root = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
    const file =
      process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return join(root, 'bin', 'napi-v6', process.platform, process.arch, file);
  } catch {
    return null;
  }
}

/**
 * The CUDA major version a provider library was built against, read from the
 * names of the CUDA libraries it links (libcudart.so.12, cublas64_13.dll, …):
 * the ORT release notes and the NuGet package name do not say it, the binary does.
 * Streams the file and stops at the first match (the dynamic string table is near the start).
 */
export async function cudaMajorOfLibrary(path: string): Promise<number | null> {
  const pattern = /(?:libcudart\.so\.|libcublas\.so\.|cudart64_|cublas64_)(\d{2})/;
  let carry = '';
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      const text = carry + (chunk as Buffer).toString('latin1');
      const match = pattern.exec(text);
      if (match) return Number(match[1]);
      carry = text.slice(-32);
    }
  } catch {
    return null;
  }
  return null;
}

export interface AutoProviderChoice {
  provider: 'cpu' | 'cuda' | 'webgpu';
  /** One plain line: why this provider (and why not the better ones). */
  why: string;
  webgpu?: GpuProviderProbe;
  /** The WebGPU adapter is a real GPU (webGpuAdapterIsHardware). */
  webgpuHardware: boolean;
  cuda?: GpuProviderProbe;
}

/**
 * `auto`: CUDA when its provider is installed and starts, else WebGPU when the
 * adapter is a real GPU (never a software one unless G2STUDIO_WEBGPU_ALLOW_SOFTWARE=1),
 * else the CPU.
 */
export async function chooseAutoProvider(env: NodeJS.ProcessEnv = process.env): Promise<AutoProviderChoice> {
  const notes: string[] = [];
  const cudaLib = cudaProviderLibrary();
  // Both probes at once: the report (g2studio info) shows WebGPU even where CUDA wins.
  const webgpuProbe = gpuProviderProbe('webgpu');
  const cuda = cudaLib && existsSync(cudaLib) ? await gpuProviderProbe('cuda') : undefined;
  const webgpu = await webgpuProbe;
  const webgpuHardware = webGpuAdapterIsHardware(webgpu, env);
  const probes = { webgpu, webgpuHardware, cuda };
  if (cuda?.starts)
    return { provider: 'cuda', why: 'CUDA: its provider is installed and started.', ...probes };
  if (cuda) notes.push(`CUDA is installed but did not start (${cuda.error ?? 'unknown error'})`);
  if (webgpu.starts) {
    if (webgpuHardware) return { provider: 'webgpu', why: `WebGPU on ${gpuDescription(webgpu)}.`, ...probes };
    if (env[ALLOW_SOFTWARE_WEBGPU_ENV] === '1') {
      const why = `WebGPU on a software adapter (${ALLOW_SOFTWARE_WEBGPU_ENV}=1).`;
      return { provider: 'webgpu', why, ...probes };
    }
    notes.push('the only WebGPU adapter is a software renderer, which is slower than the CPU provider');
  } else {
    notes.push(`no WebGPU adapter (${webgpu.error ?? 'unknown error'})`);
  }
  return { provider: 'cpu', why: `CPU: ${notes.join('; ')}.`, ...probes };
}

/** "NVIDIA GPU 0x2684" from ORT's discovered devices, or "the GPU". */
export function gpuDescription(probe: GpuProviderProbe): string {
  const gpu = probe.devices.find((d) => d.kind === 'gpu');
  return gpu ? `${gpu.vendor || 'a'} GPU (device 0x${gpu.deviceId.toString(16)})` : 'the GPU';
}

let autoChoice: Promise<AutoProviderChoice> | undefined;

/** The auto choice, made once per process. */
export function autoProvider(): Promise<AutoProviderChoice> {
  autoChoice ??= chooseAutoProvider();
  return autoChoice;
}
