// Lists the node_modules files the built CLI and benchmarks need at run time
// on Linux x64, one path a line (relative to the repo root), for the device
// kit (pack.sh): the packages out/main requires, with their dependencies, and
// only each package's files for that platform. Everything else in
// node_modules (Electron, the build tools, other platforms' binaries, ffmpeg:
// the kit carries frames instead of a video) stays behind.
//   node scripts/device/runtime-modules.mjs > files.txt
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..');

/**
 * What out/main requires (grep "require(" out/main/*.js), less what the kit
 * never runs: electron (the desktop window), playwright-core (the viewer
 * benchmark), ffmpeg (video import; the bench reads image files there).
 */
const ENTRY_PACKAGES = [
  '@gltf-transform/core',
  '@huggingface/tokenizers',
  'better-sqlite3',
  'cli-progress',
  'commander',
  'fflate',
  'onnx-proto',
  'onnxruntime-node',
  'sharp',
  'ws',
  'zod',
];

/** Required by out/main, never run in the kit. */
const LEFT_OUT = new Set(['electron', 'playwright-core']);

/** A package out/main requires that the list above does not name would be missing there: refuse. */
function checkEntryPackages() {
  const dir = join(ROOT, 'out', 'main');
  const required = new Set();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(join(dir, file), 'utf8');
    for (const m of code.matchAll(/(?:require|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
      const parts = m[1].split('/');
      required.add(m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  const missing = [...required].filter(
    (name) =>
      !name.startsWith('node:') &&
      !builtinModules.includes(name) &&
      !ENTRY_PACKAGES.includes(name) &&
      !LEFT_OUT.has(name),
  );
  if (missing.length > 0) {
    process.stderr.write(`runtime-modules: out/main requires ${missing.join(', ')}: add to ENTRY_PACKAGES\n`);
    process.exit(1);
  }
}

/** Dependencies only their install scripts use. */
const INSTALL_ONLY = new Set(['adm-zip', 'global-agent', 'prebuild-install', 'node-gyp']);

/** Per package: files and folders left out (other platforms, sources, build inputs). */
const PRUNE = {
  'onnxruntime-node': (path) => path.startsWith('bin/') && !path.startsWith('bin/napi-v6/linux/x64/'),
  // The compiled addon is build/Release/better_sqlite3.node; deps/ and src/ are its sources.
  'better-sqlite3': (path) =>
    path.startsWith('deps/') ||
    path.startsWith('src/') ||
    (path.startsWith('build/') && !path.startsWith('build/Release/better_sqlite3.node')),
  protobufjs: (path) =>
    path.startsWith('cli/') || (path.startsWith('dist/') && !path.startsWith('dist/protobuf')),
};

/** Never needed at run time in any package. */
function alwaysPruned(path) {
  return (
    /(^|\/)(test|tests|__tests__|docs?|example|examples|\.github)\//.test(path) ||
    /\.(md|markdown|map|ts|tsx|mts|cts|c|cc|cpp|h|hpp|gyp|gypi)$/i.test(path) ||
    /(^|\/)(CHANGELOG|HISTORY|AUTHORS|CONTRIBUTING)(\.\w+)?$/i.test(path)
  );
}

/** The folder of package `name` as Node resolves it from `fromDir` (nested node_modules first). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dirname(dir) === dir) return null;
  }
}

function walk(dir, into) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // A nested node_modules holds packages of its own: they are added as dependencies.
    if (entry.isDirectory() && entry.name === 'node_modules') continue;
    if (entry.isDirectory()) walk(path, into);
    else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) into.push(path);
  }
}

checkEntryPackages();
const seen = new Map();
const queue = ENTRY_PACKAGES.map((name) => ({ name, from: ROOT }));
while (queue.length > 0) {
  const { name, from } = queue.shift();
  if (INSTALL_ONLY.has(name)) continue;
  const dir = packageDir(name, from);
  if (!dir) {
    process.stderr.write(
      `runtime-modules: ${name} (needed by ${relative(ROOT, from) || 'the app'}) is not installed\n`,
    );
    continue;
  }
  if (seen.has(dir)) continue;
  seen.set(dir, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const optional = Object.keys(manifest.optionalDependencies ?? {});
  for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir });
  // Optional dependencies are platform packages (sharp's @img/*): those installed here are this platform's.
  for (const dep of optional) if (packageDir(dep, dir)) queue.push({ name: dep, from: dir });
}

const files = [];
for (const [dir, name] of [...seen].sort((a, b) => a[0].localeCompare(b[0]))) {
  const all = [];
  walk(dir, all);
  for (const file of all) {
    const inPackage = relative(dir, file);
    if (inPackage !== 'package.json' && (alwaysPruned(inPackage) || PRUNE[name]?.(inPackage))) continue;
    files.push(relative(ROOT, file));
  }
}
process.stdout.write(`${files.join('\n')}\n`);
