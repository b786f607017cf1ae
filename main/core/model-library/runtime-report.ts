// Which ONNX Runtime execution providers can run the model on this machine,
// with the device behind each, and — for CUDA when it cannot — why not and
// what to do about it. Detection is split from the probes so the rules are
// testable on machines without a GPU: ORT's own backend list names providers
// the binary merely knows about, which alone would mislead a user.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ExecutionProviderName, ExecutionProviderStatus } from '../../common/domain';

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
}

export const ENABLE_CUDA_HINT =
  'To use an NVIDIA GPU: install an NVIDIA driver with CUDA 12 support, run `npm run install-cuda` in the G2 Studio folder (Linux x64), then restart the studio.';

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
    reason = `The ONNX Runtime CUDA execution provider is not installed${gpu ? ` (GPU found: ${gpu.name})` : ''}. Run \`npm run install-cuda\` (downloads about 300 MB; needs a CUDA 12 driver), then restart the studio.`;
  }
  const cuda: ExecutionProviderStatus = {
    name: 'cuda',
    available: reason === undefined,
    ...(gpu ? { device: gpu.name, memoryBytes: gpu.memoryBytes } : {}),
    ...(reason ? { reason } : {}),
  };
  return [cuda, cpu];
}

/** The provider a run uses under a setting; null when the setting asks for an unavailable one. */
export function effectiveProvider(
  providers: ExecutionProviderStatus[],
  setting: 'auto' | 'cpu' | 'webgpu' | 'cuda',
): ExecutionProviderName | null {
  const usable = (name: ExecutionProviderName): boolean =>
    providers.some((p) => p.name === name && p.available);
  if (setting === 'auto') return usable('cuda') ? 'cuda' : usable('cpu') ? 'cpu' : null;
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
  return {
    platform: process.platform,
    arch: process.arch,
    ortBackends,
    cudaProviderInstalled: await cudaProviderInstalled(),
    nvidiaDriver,
    gpus: nvidiaDriver ? await queryNvidiaSmi() : [],
    cpuModel: cpus()[0]?.model.trim() ?? '',
    memoryBytes: totalmem(),
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
