// `npm run bench -- gpu` measures GPU providers against the CPU in one run, on a
// machine with a GPU (docs/webgpu.md, "Measuring on a GPU"). CI has none, so
// what is checked here is that the section never reports CPU or software
// figures as GPU ones: without a usable adapter it fails and says why, and a
// software adapter (SwiftShader) is refused unless quick mode is asked for.
// The quick mode itself runs for minutes on SwiftShader and is not run here.
import { afterEach, describe, expect, it } from 'vitest';
import { gpuSectionName, runGpuBench } from '../../../main/bench/gpu-bench';
import { haveSwiftShader, swiftShaderEnv } from '../../support/swiftshader';

const KEYS = [
  'VK_ICD_FILENAMES',
  'VK_DRIVER_FILES',
  'LD_LIBRARY_PATH',
  'XDG_RUNTIME_DIR',
  'G2_BENCH_GPU_PROVIDERS',
];
const saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));

function setEnv(values: NodeJS.ProcessEnv): void {
  for (const key of KEYS) {
    if (values[key] === undefined) delete process.env[key];
    else process.env[key] = values[key];
  }
}

afterEach(() => setEnv(saved));

describe('the GPU benchmark section', () => {
  it('fails, saying why, where no GPU provider starts', async () => {
    // A Vulkan loader pointed at a driver that does not exist: WebGPU has no adapter.
    setEnv({ ...saved, VK_ICD_FILENAMES: '/nonexistent/icd.json', G2_BENCH_GPU_PROVIDERS: 'webgpu,cuda' });
    await expect(runGpuBench()).rejects.toThrow(
      /^no GPU adapter: WebGPU did not start .*; CUDA is not installed/,
    );
  }, 120_000);

  it('refuses a software adapter (SwiftShader) outside quick mode', async () => {
    expect(haveSwiftShader, 'Debian chromium ships SwiftShader: apt-get install chromium').toBe(true);
    setEnv({ ...swiftShaderEnv(), G2_BENCH_GPU_PROVIDERS: 'webgpu' });
    await expect(runGpuBench()).rejects.toThrow(
      /no GPU adapter: WebGPU's only adapter is a software renderer .*G2_BENCH_GPU_ADAPTER=any/,
    );
  }, 120_000);

  it('names a quick run or a run of some parts apart, so that neither replaces the whole section', () => {
    const all = new Set(['attention', 'golden', 'recon', 'chat'] as const);
    expect(gpuSectionName(false, { quick: false, parts: all })).toBe('gpu');
    expect(gpuSectionName(false, { quick: true, parts: all })).toBe('gpu (quick mode)');
    expect(gpuSectionName(true, { quick: true, parts: all })).toBe('gpu (software adapter, quick mode)');
    expect(gpuSectionName(false, { quick: false, parts: new Set(['golden'] as const) })).toBe(
      'gpu (golden only)',
    );
    expect(gpuSectionName(true, { quick: true, parts: new Set(['attention', 'golden'] as const) })).toBe(
      'gpu (software adapter, quick mode; attention, golden only)',
    );
  });
});
