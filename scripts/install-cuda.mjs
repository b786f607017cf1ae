// Installs onnxruntime-node's CUDA execution provider (Linux x64, CUDA 12) by
// running the package's own installer with the download switched on.
// Used by `npm run install-cuda` and, as a best effort, by postinstall.
// Never throws: a machine without internet or without a GPU keeps the CPU provider.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const bestEffort = process.argv.includes('--best-effort');

function log(message) {
  process.stdout.write(`[g2studio] ${message}\n`);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  log(
    `CUDA execution provider downloads exist for Linux x64 only; ${process.platform}/${process.arch} uses the CPU provider (DirectML/CoreML are not wired yet).`,
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
log('Downloading the ONNX Runtime CUDA 12 execution provider (about 300 MB)…');
const result = spawnSync(process.execPath, [join(ortDir, 'script', 'install.js')], {
  cwd: ortDir,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', npm_config_onnxruntime_node_install: 'cuda12' },
  timeout: 15 * 60_000,
});
if (result.status === 0 && existsSync(marker)) {
  log('CUDA execution provider installed. `g2studio info` lists it when a CUDA 12 driver is present.');
  process.exit(0);
}
log(
  'Could not download the CUDA execution provider (offline?). The studio runs on the CPU provider; run `npm run install-cuda` later to retry.',
);
process.exit(bestEffort ? 0 : 1);
