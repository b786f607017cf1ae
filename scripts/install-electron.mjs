// Downloads the Electron runtime binary by running the electron package's own
// installer. npm's allowScripts denies that installer during `npm install`
// (package.json) because on an offline machine its failure would fail the whole
// install; postinstall calls this instead, as a best effort. Used by
// `npm run install-electron` to retry. Never throws with --best-effort.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const bestEffort = process.argv.includes('--best-effort');
const log = (message) => process.stdout.write(`[g2studio] ${message}\n`);

let electronDir;
try {
  electronDir = dirname(require.resolve('electron/package.json'));
} catch {
  log('The electron package is not installed; run npm install first.');
  process.exit(bestEffort ? 0 : 1);
}
const pathFile = join(electronDir, 'path.txt');
const installed = () =>
  existsSync(pathFile) && existsSync(join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()));
if (installed()) {
  log('Electron runtime already installed.');
  process.exit(0);
}
log('Downloading the Electron runtime…');
const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
  cwd: electronDir,
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
  timeout: 10 * 60_000,
});
if (result.status === 0 && installed()) {
  log('Electron runtime installed: `npm start` opens the desktop window.');
  process.exit(0);
}
const reason = (result.stderr ?? '').split('\n').find((line) => /Error/.test(line)) ?? 'no answer';
log(`Could not download the Electron runtime (${reason.trim()}).`);
log('`npm start` serves the studio in your browser instead; run `npm run install-electron` to retry.');
process.exit(bestEffort ? 0 : 1);
