// `npm start`: the desktop app when the Electron runtime is installed, web mode
// otherwise. Electron is an optionalDependency; where its download failed
// (offline machines, CI) the same studio runs in the browser instead.
// Extra arguments go to the app, e.g. `npm start -- --library ~/scans`.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);

/** The Electron binary's path, or null when the package or its binary is missing. */
function electronBinary() {
  try {
    // electron's index.js returns the binary's path, and throws when the download never happened.
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function run(command, commandArgs, env = process.env) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`G2 Studio could not start: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const binary = electronBinary();
const entry = join(root, binary ? 'out/main/index.js' : 'out/main/cli.js');
if (!existsSync(entry)) {
  console.error('G2 Studio is not built yet: run `npm run build` (or `npm start`, which builds first).');
  process.exit(1);
}

if (binary) {
  const env = { ...process.env };
  // Set by some shells/tools; it would make Electron behave as plain Node.
  delete env.ELECTRON_RUN_AS_NODE;
  run(binary, [entry, ...args], env);
} else {
  console.log(
    'Electron is not installed here (`npm run install-electron` fetches it), so G2 Studio runs in web mode: open the URL below.',
  );
  run(process.execPath, [entry, 'serve', ...args]);
}
