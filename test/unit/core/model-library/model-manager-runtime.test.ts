// What the Models view says the model runs on: execution providers from the
// machine's probes (ONNX Runtime binding, CUDA provider library, NVIDIA driver,
// nvidia-smi), and why CUDA is missing with how to enable it.

import { describe, expect, it } from 'vitest';
import {
  describeProviders,
  effectiveProvider,
  executionProviders,
  parseNvidiaSmi,
  probeProviders,
  type ProviderProbe,
} from '../../../../main/core/model-library/runtime-report';

const linuxGpuBox: ProviderProbe = {
  platform: 'linux',
  arch: 'x64',
  ortBackends: [
    { name: 'cpu', bundled: true },
    { name: 'cuda', bundled: false },
  ],
  cudaProviderInstalled: true,
  nvidiaDriver: true,
  gpus: [{ name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }],
  cpuModel: 'AMD EPYC 9454',
  memoryBytes: 128 * 2 ** 30,
  webgpu: null,
  webgpuHardware: false,
  cuda: { provider: 'cuda', starts: true, shaderF16: null, devices: [] },
  cudaProviderMajor: 12,
  driverCudaMajor: 12,
};

describe('execution providers', () => {
  it('CUDA with its device and memory when the driver, the provider library and a GPU are there', () => {
    const [cuda, , cpu] = describeProviders(linuxGpuBox);
    expect(cuda).toEqual({
      name: 'cuda',
      available: true,
      device: 'NVIDIA H100 80GB HBM3',
      memoryBytes: 81559 * 2 ** 20,
    });
    expect(cpu).toEqual({
      name: 'cpu',
      available: true,
      device: 'AMD EPYC 9454',
      memoryBytes: 128 * 2 ** 30,
    });
    expect(effectiveProvider([cuda, cpu], 'auto')).toBe('cuda');
    expect(effectiveProvider([cuda, cpu], 'cpu')).toBe('cpu');
  });

  it('explains a missing CUDA: no driver, provider library not installed (GPU named), other platforms', () => {
    const noDriver = describeProviders({ ...linuxGpuBox, nvidiaDriver: false, gpus: [] })[0];
    expect(noDriver.available).toBe(false);
    expect(noDriver.reason).toMatch(/No NVIDIA GPU driver/);
    expect(noDriver.reason).toMatch(/npm run install-cuda/);
    expect(noDriver.reason).toMatch(/CUDA 12/);

    const noLibrary = describeProviders({ ...linuxGpuBox, cudaProviderInstalled: false })[0];
    expect(noLibrary).toMatchObject({ available: false, device: 'NVIDIA H100 80GB HBM3' });
    expect(noLibrary.reason).toMatch(/CUDA execution provider is not installed \(GPU found: NVIDIA H100/);
    expect(noLibrary.reason).toMatch(/npm run install-cuda/);

    const mac = describeProviders({ ...linuxGpuBox, platform: 'darwin', arch: 'arm64' })[0];
    expect(mac.available).toBe(false);
    expect(mac.reason).toMatch(/Linux x64 only; this is darwin\/arm64/);

    const providers = describeProviders({ ...linuxGpuBox, nvidiaDriver: false, gpus: [] });
    expect(effectiveProvider(providers, 'auto')).toBe('cpu');
    // Asking for CUDA where it cannot run: no provider to run on (runs would fail).
    expect(effectiveProvider(providers, 'cuda')).toBeNull();
  });

  it('WebGPU on a real GPU: its memory where nvidia-smi reports it, whether fp16 computes in fp16, unified memory on Apple silicon', () => {
    const nvidiaAdapter = {
      provider: 'webgpu' as const,
      starts: true,
      shaderF16: true,
      devices: [{ vendorId: 0x10de, deviceId: 0x2330, vendor: 'NVIDIA', kind: 'gpu' as const }],
    };
    const box = { ...linuxGpuBox, webgpu: nvidiaAdapter, webgpuHardware: true, webgpuFloat16Compute: true };
    const webgpu = describeProviders(box)[1];
    expect(webgpu).toEqual({
      name: 'webgpu',
      available: true,
      device: 'NVIDIA GPU (PCI 10de:2330), shader-f16 (fp16 models compute in fp16)',
      memoryBytes: 81559 * 2 ** 20,
      float16Compute: true,
    });
    // Without shader-f16 (or switched off) fp16 computes in float32; an AMD adapter's memory is not known.
    const amd = describeProviders({
      ...box,
      webgpu: {
        ...nvidiaAdapter,
        shaderF16: false,
        devices: [{ ...nvidiaAdapter.devices[0], vendorId: 0x1002, vendor: 'AMD' }],
      },
      webgpuFloat16Compute: false,
    })[1];
    expect(amd.device).toMatch(/no shader-f16 \(fp16 models compute in float32\)/);
    expect(amd.memoryBytes).toBeUndefined();
    expect(amd.float16Compute).toBeUndefined();
    const mac = describeProviders({
      ...box,
      platform: 'darwin',
      arch: 'arm64',
      gpus: [],
      webgpu: {
        ...nvidiaAdapter,
        devices: [{ ...nvidiaAdapter.devices[0], vendorId: 0x106b, vendor: 'Apple' }],
      },
    })[1];
    expect(mac).toMatchObject({ available: true, float16Compute: true, unifiedMemory: true });
    expect(mac.memoryBytes).toBeUndefined();
  });

  it('reads nvidia-smi CSV output', () => {
    expect(parseNvidiaSmi('NVIDIA GeForce RTX 4090, 24564\nTesla T4, 15360\n')).toEqual([
      { name: 'NVIDIA GeForce RTX 4090', memoryBytes: 24564 * 2 ** 20 },
      { name: 'Tesla T4', memoryBytes: 15360 * 2 ** 20 },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
    expect(
      parseNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'),
    ).toEqual([]);
  });

  it('on this machine: the CPU with its model and memory; CUDA available exactly when its probes say so', async () => {
    const probe = await probeProviders();
    expect(probe.ortBackends?.map((b) => b.name)).toContain('cpu');
    const providers = await executionProviders();
    const cpu = providers.find((p) => p.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.memoryBytes).toBeGreaterThan(2 ** 28);
    const cuda = providers.find((p) => p.name === 'cuda')!;
    const usable =
      probe.platform === 'linux' &&
      probe.arch === 'x64' &&
      probe.nvidiaDriver &&
      probe.cudaProviderInstalled &&
      probe.ortBackends!.some((b) => b.name === 'cuda');
    expect(cuda.available).toBe(usable);
    if (!usable) expect(cuda.reason).toMatch(/install-cuda|Linux x64 only/);
  });
});
