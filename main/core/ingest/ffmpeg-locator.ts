// Finds an ffmpeg + ffprobe pair that actually runs. Order (first that runs wins):
//   1. an explicit path (the user's setting) — if it does not run we say so rather
//      than silently using another binary;
//   2. G2STUDIO_FFMPEG / G2STUDIO_FFPROBE;
//   3. ffmpeg-static (optional dependency; ffprobe from @ffprobe-installer or beside it);
//   4. @ffmpeg-installer/ffmpeg + @ffprobe-installer/ffprobe;
//   5. ffmpeg / ffprobe on the system PATH.
// Inside a packaged Electron app the binaries live in app.asar.unpacked: a path
// inside app.asar can be read by Electron's patched fs but cannot be executed.

import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, sep } from 'node:path';
import type { FfmpegInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';

const exe = (name: string): string => (process.platform === 'win32' ? `${name}.exe` : name);

/** A path inside an Electron asar archive, rewritten to its unpacked twin (executables must be unpacked). */
export function unpackedAsarPath(path: string): string {
  const packed = `${sep}app.asar${sep}`;
  const unpacked = `${sep}app.asar.unpacked${sep}`;
  return path.includes(packed) ? path.split(packed).join(unpacked) : path;
}

interface Candidate {
  source: FfmpegInfo['source'];
  ffmpegPath: string;
  ffprobePath: string | null;
}

/** First line of `<binary> -version`, e.g. "ffmpeg version 6.1.1-3ubuntu5 Copyright ..." -> "6.1.1-3ubuntu5". */
function runVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['-hide_banner', '-version'],
      { timeout: 15_000, windowsHide: true },
      (error, stdout) => {
        if (error) return reject(error);
        const match = /version\s+(\S+)/.exec(stdout.split('\n')[0] ?? '');
        if (!match) return reject(new Error(`unexpected -version output from ${binary}`));
        resolve(match[1]);
      },
    );
  });
}

function optionalModulePath(moduleName: string): string | null {
  try {
    // CommonJS bundle (electron-vite output) has __filename; plain ESM (vitest, tsx) has import.meta.url.
    const require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
    // ffmpeg-static exports the path string; the installer packages export { path }.
    const exported = require(moduleName) as string | { path?: string } | null;
    const path = typeof exported === 'string' ? exported : exported?.path;
    return typeof path === 'string' && path.length > 0 ? unpackedAsarPath(path) : null;
  } catch {
    return null; // not installed (ffmpeg-static is optional) or no binary for this platform
  }
}

async function onPath(name: string): Promise<string | null> {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (!folder) continue;
    const candidate = join(folder, exe(name));
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

const besideFfmpeg = (ffmpegPath: string): string => join(dirname(ffmpegPath), exe('ffprobe'));

async function firstRunning(paths: Array<string | null>): Promise<string | null> {
  for (const path of paths) {
    if (!path) continue;
    try {
      await runVersion(path);
      return path;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Check a candidate: ffmpeg must run, and some ffprobe must run with it. */
async function verify(
  candidate: Candidate,
  fallbackProbes: Array<string | null>,
): Promise<FfmpegInfo | string> {
  let version: string;
  try {
    version = await runVersion(candidate.ffmpegPath);
  } catch (error) {
    return `${candidate.ffmpegPath} (${candidate.source}) does not run: ${(error as Error).message.split('\n')[0]}`;
  }
  const ffprobePath = await firstRunning([
    candidate.ffprobePath,
    besideFfmpeg(candidate.ffmpegPath),
    ...fallbackProbes,
  ]);
  if (!ffprobePath) return `no runnable ffprobe found for ${candidate.ffmpegPath} (${candidate.source})`;
  return { source: candidate.source, ffmpegPath: candidate.ffmpegPath, ffprobePath, version };
}

const FIX =
  'Install ffmpeg (for example `apt-get install ffmpeg`, `brew install ffmpeg` or from ffmpeg.org) or set G2STUDIO_FFMPEG to the ffmpeg binary.';

export async function locateFfmpeg(opts: { ffmpegPath?: string } = {}): Promise<FfmpegInfo> {
  const installerProbe = optionalModulePath('@ffprobe-installer/ffprobe');
  const envProbe = process.env.G2STUDIO_FFPROBE ? unpackedAsarPath(process.env.G2STUDIO_FFPROBE) : null;
  const systemProbe = await onPath('ffprobe');
  const fallbackProbes = [envProbe, installerProbe, systemProbe];

  if (opts.ffmpegPath) {
    const result = await verify(
      { source: 'setting', ffmpegPath: unpackedAsarPath(opts.ffmpegPath), ffprobePath: null },
      fallbackProbes,
    );
    if (typeof result !== 'string') return result;
    throw new StudioError('ffmpeg-missing', `The ffmpeg set in settings cannot be used: ${result}.`, FIX);
  }

  const candidates: Array<() => Promise<Candidate | null>> = [
    async () =>
      process.env.G2STUDIO_FFMPEG
        ? { source: 'env', ffmpegPath: unpackedAsarPath(process.env.G2STUDIO_FFMPEG), ffprobePath: envProbe }
        : null,
    async () => {
      const ffmpegPath = optionalModulePath('ffmpeg-static');
      return ffmpegPath ? { source: 'ffmpeg-static', ffmpegPath, ffprobePath: installerProbe } : null;
    },
    async () => {
      const ffmpegPath = optionalModulePath('@ffmpeg-installer/ffmpeg');
      return ffmpegPath
        ? { source: '@ffmpeg-installer/ffmpeg', ffmpegPath, ffprobePath: installerProbe }
        : null;
    },
    async () => {
      const ffmpegPath = await onPath('ffmpeg');
      return ffmpegPath ? { source: 'system', ffmpegPath, ffprobePath: systemProbe } : null;
    },
  ];

  const problems: string[] = [];
  for (const next of candidates) {
    const candidate = await next();
    if (!candidate) continue;
    const result = await verify(candidate, fallbackProbes);
    if (typeof result !== 'string') return result;
    problems.push(result);
  }
  const detail = problems.length > 0 ? ` Tried: ${problems.join('; ')}.` : '';
  throw new StudioError('ffmpeg-missing', `No working ffmpeg was found.${detail}`, FIX);
}
