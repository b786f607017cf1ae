// Installs onnxruntime-node's CUDA execution provider (Linux x64) by running
// the package's own installer with the download switched on. onnxruntime-node
// 1.30's installer (script/install-metadata.js) fetches NuGet's
// Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 for the 'cuda12' manifest, and its
// own script refuses anything but CUDA 12; after the download we read the CUDA
// major the library really links (libcudart.so.N / libcublas.so.N) and say it,
// so a CUDA 13 build under the cuda12 name would not go unnoticed. It needs an
// NVIDIA driver that supports that CUDA major, and cuDNN 9.
// Used by `npm run install-cuda` and, as a best effort, by postinstall.
// Never throws: a machine without internet or without a GPU keeps the CPU provider.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createReadStream, existsSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** The CUDA major a provider library links against, from the names of the CUDA libraries it needs. */
async function linkedCudaMajor(path) {
  const pattern = /(?:libcudart\.so\.|libcublas\.so\.)(\d{2})/;
  let carry = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const text = carry + chunk.toString('latin1');
    const match = pattern.exec(text);
    if (match) return Number(match[1]);
    carry = text.slice(-32);
  }
  return null;
}
const bestEffort = process.argv.includes('--best-effort');

function log(message) {
  process.stdout.write(`[g2studio] ${message}\n`);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  log(
    `CUDA execution provider downloads exist for Linux x64 only; ${process.platform}/${process.arch} uses the bundled WebGPU provider on a GPU (Metal on macOS, Direct3D 12 on Windows) or the CPU.`,
  );
  process.exit(0);
}

let ortDir;
try {
  ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
} catch {
  log('onnxruntime-node is not installed; run npm install first.');
  process.exit(bestEffort ? 0 : 1);
}
const marker = join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
if (existsSync(marker)) {
  log('CUDA execution provider already installed.');
  process.exit(0);
}
log(
  'Downloading the ONNX Runtime 1.30 CUDA execution provider (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux, CUDA 12 + cuDNN 9, about 300 MB)…',
);
const result = spawnSync(process.execPath, [join(ortDir, 'script', 'install.js')], {
  cwd: ortDir,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', npm_config_onnxruntime_node_install: 'cuda12' },
  timeout: 15 * 60_000,
});
if (result.status === 0 && existsSync(marker)) {
  const major = await linkedCudaMajor(marker);
  log(
    `CUDA execution provider installed${major ? ` (built for CUDA ${major})` : ''}. ` +
      `It needs an NVIDIA driver with CUDA ${major ?? 12} support and cuDNN 9; \`g2studio info\` checks both.`,
  );
  if (major !== null && major !== 12)
    log(`Note: onnxruntime-node asked for a CUDA 12 build but this library links CUDA ${major}.`);
  process.exit(0);
}
log(
  'Could not download the CUDA execution provider (offline?). The studio runs on the CPU provider; run `npm run install-cuda` later to retry.',
);
process.exit(bestEffort ? 0 : 1);
