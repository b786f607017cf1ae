// Which ONNX Runtime execution providers can run the model on this machine,
// with the device behind each, and — for CUDA and WebGPU when they cannot —
// why not and what to do about it. Detection is split from the probes so the rules are
// testable on machines without a GPU: ORT's own backend list names providers
// the binary merely knows about, which alone would mislead a user.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ExecutionProviderName, ExecutionProviderStatus } from '../../common/domain';
import {
  autoProviderChoice,
  installedCudaProviderMajor,
  webgpuFloat16Compute,
  type GpuProviderProbe,
} from '../../model';

/** What the probes found; each field is one fact about this machine. */
export interface ProviderProbe {
  platform: NodeJS.Platform;
  arch: string;
  /** Backends the ONNX Runtime binding lists (null: no binding loads here). */
  ortBackends: Array<{ name: string; bundled: boolean }> | null;
  /** libonnxruntime_providers_cuda is installed beside the binding (npm run install-cuda). */
  cudaProviderInstalled: boolean;
  /** The NVIDIA kernel driver is loaded (Linux: /proc/driver/nvidia/version). */
  nvidiaDriver: boolean;
  /** GPUs nvidia-smi reports (empty without nvidia-smi or a GPU). */
  gpus: Array<{ name: string; memoryBytes: number }>;
  cpuModel: string;
  memoryBytes: number;
  /** The WebGPU probe (a session on the bundled WebGPU provider); null when not probed. */
  webgpu: GpuProviderProbe | null;
  /** The WebGPU adapter is a real GPU (auto may use it), not SwiftShader/lavapipe. */
  webgpuHardware: boolean;
  /** fp16 models compute in fp16 on the WebGPU adapter (shader-f16 and not switched off). */
  webgpuFloat16Compute?: boolean;
  /** The CUDA probe (a session on the installed CUDA provider); null when it is not installed. */
  cuda: GpuProviderProbe | null;
  /** CUDA major version the installed CUDA provider links against (null: not installed/unknown). */
  cudaProviderMajor: number | null;
  /** Highest CUDA version the NVIDIA driver supports, major part (nvidia-smi's header; null: unknown). */
  driverCudaMajor: number | null;
}

/** onnxruntime-node 1.30's install script fetches Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0, a CUDA 12 + cuDNN 9 build. */
export const EXPECTED_CUDA_MAJOR = 12;

export const ENABLE_CUDA_HINT =
  'To use CUDA on an NVIDIA GPU: install an NVIDIA driver with CUDA 12 support and cuDNN 9, run `npm run install-cuda` in the G2 Studio folder (Linux x64), then restart the studio.';

/** The WebGPU entry: available when a session started on it (any adapter: asking for webgpu explicitly may use a software one). */
export function describeWebGpu(probe: ProviderProbe): ExecutionProviderStatus {
  const webgpu = probe.webgpu;
  if (!webgpu || !webgpu.starts) {
    return {
      name: 'webgpu',
      available: false,
      reason:
        `No WebGPU adapter${webgpu?.error ? ` (${webgpu.error})` : ''}. ` +
        (probe.platform === 'linux'
          ? 'On Linux WebGPU needs a Vulkan driver for the GPU (e.g. mesa-vulkan-drivers for AMD/Intel, the NVIDIA driver) and libvulkan1.'
          : probe.platform === 'win32'
            ? 'On Windows WebGPU needs a Direct3D 12 GPU driver; update the graphics driver.'
            : 'On macOS WebGPU runs on Metal; it needs macOS 13 or later.'),
    };
  }
  const gpu = webgpu.devices.find((d) => d.kind === 'gpu');
  const f16 = webgpu.shaderF16
    ? 'shader-f16 (fp16 models compute in fp16)'
    : 'no shader-f16 (fp16 models compute in float32)';
  if (!probe.webgpuHardware) {
    return {
      name: 'webgpu',
      available: true,
      software: true,
      device: `software adapter (CPU rasteriser, e.g. SwiftShader), ${f16}`,
      reason:
        'The only WebGPU adapter is a software renderer: `--provider webgpu` runs on it (correct but slower than the CPU provider); `auto` does not use it.',
    };
  }
  const memoryBytes = webGpuMemoryBytes(probe, gpu);
  return {
    name: 'webgpu',
    available: true,
    device: `${gpu ? `${gpu.vendor} GPU (PCI ${gpu.vendorId.toString(16)}:${gpu.deviceId.toString(16)})` : 'GPU'}, ${f16}`,
    ...(memoryBytes ? { memoryBytes } : {}),
    ...(probe.webgpuFloat16Compute ? { float16Compute: true } : {}),
    ...(probe.platform === 'darwin' && probe.arch === 'arm64' ? { unifiedMemory: true } : {}),
  };
}

/**
 * The WebGPU adapter's own memory where the machine says it: nvidia-smi's for
 * an NVIDIA adapter. Elsewhere it is unknown (Intel/AMD on Windows) or the
 * system memory itself (Apple silicon's unified memory), and precision advice
 * holds the model against the free RAM instead.
 */
function webGpuMemoryBytes(probe: ProviderProbe, gpu: { vendorId: number } | undefined): number | undefined {
  return gpu?.vendorId === NVIDIA_VENDOR_ID && probe.gpus.length > 0 ? probe.gpus[0].memoryBytes : undefined;
}

const NVIDIA_VENDOR_ID = 0x10de;

/** The providers, CPU last (it always works), from what the probes found. */
export function describeProviders(probe: ProviderProbe): ExecutionProviderStatus[] {
  const cpu: ExecutionProviderStatus = {
    name: 'cpu',
    available: probe.ortBackends !== null,
    device: probe.cpuModel || undefined,
    memoryBytes: probe.memoryBytes,
    ...(probe.ortBackends === null
      ? {
          reason: `ONNX Runtime has no binding for ${probe.platform}/${probe.arch}: reinstall G2 Studio (npm install) on a supported platform.`,
        }
      : {}),
  };
  const gpu = probe.gpus[0];
  const cudaKnown = probe.ortBackends?.find((b) => b.name.toLowerCase() === 'cuda');
  let reason: string | undefined;
  if (probe.platform !== 'linux' || probe.arch !== 'x64') {
    reason = `The CUDA execution provider is available for Linux x64 only; this is ${probe.platform}/${probe.arch}, so the model runs on the CPU.`;
  } else if (!probe.nvidiaDriver) {
    reason = `No NVIDIA GPU driver is loaded on this machine, so the model runs on the CPU. ${ENABLE_CUDA_HINT}`;
  } else if (!cudaKnown || !(cudaKnown.bundled || probe.cudaProviderInstalled)) {
    reason = `The ONNX Runtime CUDA execution provider is not installed${gpu ? ` (GPU found: ${gpu.name})` : ''}. Run \`npm run install-cuda\` (downloads about 300 MB; needs a CUDA 12 driver and cuDNN 9), then restart the studio.`;
  } else if (
    probe.cudaProviderMajor !== null &&
    probe.driverCudaMajor !== null &&
    probe.driverCudaMajor < probe.cudaProviderMajor
  ) {
    reason = `The installed CUDA provider is built for CUDA ${probe.cudaProviderMajor}, but the NVIDIA driver supports CUDA ${probe.driverCudaMajor} at most: update the NVIDIA driver.`;
  } else if (probe.cuda && !probe.cuda.starts) {
    reason = `The CUDA provider is installed but did not start (${probe.cuda.error ?? 'unknown error'}). It needs the CUDA ${probe.cudaProviderMajor ?? EXPECTED_CUDA_MAJOR} runtime libraries (cuBLAS, cuFFT, cuRAND) and cuDNN 9 on the library path.`;
  }
  const cuda: ExecutionProviderStatus = {
    name: 'cuda',
    available: reason === undefined,
    ...(gpu ? { device: gpu.name, memoryBytes: gpu.memoryBytes } : {}),
    ...(reason ? { reason } : {}),
  };
  return [cuda, describeWebGpu(probe), cpu];
}

/** The provider a run uses under a setting; null when the setting asks for an unavailable one. */
export function effectiveProvider(
  providers: ExecutionProviderStatus[],
  setting: 'auto' | 'cpu' | 'webgpu' | 'cuda',
): ExecutionProviderName | null {
  const usable = (name: ExecutionProviderName): boolean =>
    providers.some((p) => p.name === name && p.available);
  if (setting === 'auto') {
    // Never a software WebGPU adapter: it is slower than the CPU provider.
    const gpuWebGpu = providers.some((p) => p.name === 'webgpu' && p.available && !p.software);
    return usable('cuda') ? 'cuda' : gpuWebGpu ? 'webgpu' : usable('cpu') ? 'cpu' : null;
  }
  return usable(setting) ? setting : null;
}

/** `nvidia-smi --query-gpu=name,memory.total`: name and memory of each GPU; empty when it is missing or fails. */
export function parseNvidiaSmi(output: string): Array<{ name: string; memoryBytes: number }> {
  const gpus: Array<{ name: string; memoryBytes: number }> = [];
  for (const line of output.split('\n')) {
    const match = /^\s*(.+?)\s*,\s*(\d+)\s*(?:MiB)?\s*$/.exec(line);
    if (match) gpus.push({ name: match[1], memoryBytes: Number(match[2]) * 2 ** 20 });
  }
  return gpus;
}

/** The "CUDA Version: 12.4" of nvidia-smi's header, major part. */
export function parseDriverCudaMajor(output: string): number | null {
  const match = /CUDA Version:\s*(\d+)\./.exec(output);
  return match ? Number(match[1]) : null;
}

function queryDriverCudaMajor(): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', [], { timeout: 5000, windowsHide: true }, (error, stdout) =>
      resolve(error ? null : parseDriverCudaMajor(stdout)),
    );
  });
}

function queryNvidiaSmi(): Promise<Array<{ name: string; memoryBytes: number }>> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 5000, windowsHide: true },
      (error, stdout) => resolve(error ? [] : parseNvidiaSmi(stdout)),
    );
  });
}

async function cudaProviderInstalled(): Promise<boolean> {
  try {
    const root = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
    const files = await readdir(join(root, 'bin'), { recursive: true });
    return files.some((file) => basename(String(file)).includes('onnxruntime_providers_cuda'));
  } catch {
    return false;
  }
}

/** Probe this machine (ORT binding, provider library, driver, nvidia-smi). */
export async function probeProviders(): Promise<ProviderProbe> {
  let ortBackends: ProviderProbe['ortBackends'] = null;
  try {
    const ort = (await import('onnxruntime-node')) as {
      listSupportedBackends?: () => Array<{ name: string; bundled: boolean }>;
    };
    ortBackends = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
  } catch {
    // No ONNX Runtime binding for this platform.
  }
  const nvidiaDriver =
    process.platform === 'linux' ? existsSync('/proc/driver/nvidia/version') : process.platform === 'win32';
  const choice = ortBackends ? await autoProviderChoice() : null;
  return {
    platform: process.platform,
    arch: process.arch,
    ortBackends,
    cudaProviderInstalled: await cudaProviderInstalled(),
    nvidiaDriver,
    gpus: nvidiaDriver ? await queryNvidiaSmi() : [],
    cpuModel: cpus()[0]?.model.trim() ?? '',
    memoryBytes: totalmem(),
    webgpu: choice?.webgpu ?? null,
    webgpuHardware: choice?.webgpuHardware ?? false,
    webgpuFloat16Compute: choice?.webgpu?.starts
      ? await webgpuFloat16Compute(choice.webgpu.shaderF16)
      : false,
    cuda: choice?.cuda ?? null,
    cudaProviderMajor: await installedCudaProviderMajor(),
    driverCudaMajor: nvidiaDriver ? await queryDriverCudaMajor() : null,
  };
}

let cached: Promise<ExecutionProviderStatus[]> | null = null;

/**
 * This machine's providers, probed once per process: the hardware does not
 * change while it runs, and a newly installed CUDA provider needs a restart anyway.
 */
export function executionProviders(): Promise<ExecutionProviderStatus[]> {
  cached ??= probeProviders().then(describeProviders);
  return cached;
}
