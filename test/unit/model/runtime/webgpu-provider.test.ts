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
import { combinedProvider } from '../../../../main/model/runtime/session';
import { SHARED_DIR } from '../../../support/shared-dir';
import { REPO_ROOT } from '../../../support/paths';

const ROOT = REPO_ROOT;
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CHROMIUM = '/usr/lib/chromium';
const SWIFTSHADER_ICD = join(CHROMIUM, 'vk_swiftshader_icd.json');
const haveSwiftShader = fs.existsSync(SWIFTSHADER_ICD) && fs.existsSync(join(CHROMIUM, 'libvulkan.so.1'));

/** SwiftShader as the only Vulkan driver (Chromium ships the loader beside it). */
function swiftShaderEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    LD_LIBRARY_PATH: [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    XDG_RUNTIME_DIR: fs.mkdtempSync(join(os.tmpdir(), 'xdg-')),
    ...extra,
  };
}

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
    expect(webGpuAdapterIsHardware({ ...started, devices: [devices[1]] }, {})).toBe(false);
    expect(webGpuAdapterIsHardware({ ...started, starts: false }, {})).toBe(false);
    expect(
      plainOrtError(
        '/src/webgpu_context.cc:136 Fn() adapter_result.status == Success was false. Failed to get a WebGPU adapter: No supported adapters',
      ),
    ).toBe('Failed to get a WebGPU adapter: No supported adapters');
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
      webgpu: { starts: true, shaderF16: false },
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

  // The whole tiny-a model (reconstruction and chat) on SwiftShader: a few minutes on a free
  // 2-core CI runner (SwiftShader is a CPU rasteriser), so it runs under the heavy-work lock.
  it('g2studio --provider webgpu model verify-golden passes on g2vlm-tiny-a and names the provider', async () => {
    const cli = join(ROOT, 'out/main/cli.js');
    expect(fs.existsSync(cli), 'npm run build first').toBe(true);
    const golden = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
    const stdout = await new Promise<string>((done, fail) =>
      execFile(
        process.execPath,
        [join(ROOT, 'bin/g2studio.js'), '--provider', 'webgpu', 'model', 'verify-golden', golden, '--json'],
        { env: swiftShaderEnv(), timeout: 1_500_000, maxBuffer: 64 * 2 ** 20 },
        (error, out, err) =>
          out.trim() ? done(out) : fail(new Error(`${error?.message}\n${err.slice(-3000)}`)),
      ),
    );
    const report = JSON.parse(stdout) as {
      pass: boolean;
      executionProvider: string;
      providerNotes: string[];
      failed: number;
      entries: Array<{ name: string; pass: boolean; skipped?: string; maxAbs: number }>;
    };
    expect(report.executionProvider).toBe('webgpu');
    expect(report.providerNotes).toEqual([]);
    const compared = report.entries.filter((e) => !e.skipped);
    expect(compared.filter((e) => !e.pass).map((e) => e.name)).toEqual([]);
    expect(compared.some((e) => e.name === 'recon.points')).toBe(true);
    expect(compared.some((e) => e.name === 'chat.decode_argmax_ids')).toBe(true);
    expect(report.pass).toBe(true);
  }, 1_600_000);
});
