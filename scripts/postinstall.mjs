// Best-effort downloads after `npm install`; none of them may fail the install
// (package.json's allowScripts keeps the packages' own download scripts from
// running, because they fail hard when offline):
// - the Electron runtime: without it `npm start` serves the studio in web mode;
// - onnxruntime-node's CUDA execution provider (Linux x64): without it the CPU provider runs;
// - ffmpeg-static is an optionalDependency: npm drops it when its download fails,
//   and the studio then finds ffmpeg in @ffmpeg-installer/ffmpeg or on the PATH.
// Set G2STUDIO_SKIP_DOWNLOADS=1 to skip both (CI does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.env.G2STUDIO_SKIP_DOWNLOADS === '1') process.exit(0);
for (const script of ['./install-electron.mjs', './install-cuda.mjs']) {
  spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), '--best-effort'], {
    stdio: 'inherit',
    timeout: 16 * 60_000,
  });
}
process.exit(0);
