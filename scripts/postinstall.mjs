// Best-effort downloads after `npm install`: none of them may fail the install.
// - electron and ffmpeg-static are optionalDependencies: npm drops them when their
//   own download fails, and the studio then serves in web mode / uses another ffmpeg.
// - onnxruntime-node's CUDA provider: tried here, skipped quietly when offline.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.env.G2STUDIO_SKIP_CUDA === '1' || process.env.CI === 'true') process.exit(0);
spawnSync(process.execPath, [fileURLToPath(new URL('./install-cuda.mjs', import.meta.url)), '--best-effort'], {
  stdio: 'inherit',
  timeout: 16 * 60_000,
});
process.exit(0);
