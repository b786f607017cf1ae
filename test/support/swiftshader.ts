// Chromium's SwiftShader Vulkan driver as the only GPU (docs/webgpu-notes.md):
// the WebGPU provider then runs on the CPU, so GPU graphs are tested for
// correctness without a GPU. The Vulkan loader reads its environment once per
// process, so a case that needs it runs in a child process with this env.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

const CHROMIUM = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = join(CHROMIUM, 'vk_swiftshader_icd.json');
/** Debian's chromium package ships the driver and the loader beside it. */
export const haveSwiftShader =
  fs.existsSync(SWIFTSHADER_ICD) && fs.existsSync(join(CHROMIUM, 'libvulkan.so.1'));

/** SwiftShader as the only Vulkan driver (Chromium ships the loader beside it). */
export function swiftShaderEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    LD_LIBRARY_PATH: [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    XDG_RUNTIME_DIR: fs.mkdtempSync(join(os.tmpdir(), 'xdg-')),
    ...extra,
  };
}
