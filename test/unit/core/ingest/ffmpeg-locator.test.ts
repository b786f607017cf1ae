// Locating ffmpeg/ffprobe: each candidate is run for real (`-version`).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { locateFfmpeg, unpackedAsarPath } from '../../../../main/core/ingest/ffmpeg-locator';

const saved = { ffmpeg: process.env.G2STUDIO_FFMPEG, ffprobe: process.env.G2STUDIO_FFPROBE };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-ffmpeg-locator-'));
});
afterEach(() => {
  for (const [key, value] of [
    ['G2STUDIO_FFMPEG', saved.ffmpeg],
    ['G2STUDIO_FFPROBE', saved.ffprobe],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('locateFfmpeg', () => {
  it('finds an ffmpeg and ffprobe pair that runs and reports its version', async () => {
    delete process.env.G2STUDIO_FFMPEG;
    const info = await locateFfmpeg();
    expect(['ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'system']).toContain(info.source);
    expect(info.version.length).toBeGreaterThan(0);
    expect(execFileSync(info.ffmpegPath, ['-version']).toString()).toContain(info.version);
    expect(execFileSync(info.ffprobePath, ['-version']).toString()).toMatch(/^ffprobe version/);
  });

  it('uses G2STUDIO_FFMPEG / G2STUDIO_FFPROBE first', async () => {
    delete process.env.G2STUDIO_FFMPEG;
    const found = await locateFfmpeg();
    process.env.G2STUDIO_FFMPEG = found.ffmpegPath;
    process.env.G2STUDIO_FFPROBE = found.ffprobePath;
    const info = await locateFfmpeg();
    expect(info).toMatchObject({
      source: 'env',
      ffmpegPath: found.ffmpegPath,
      ffprobePath: found.ffprobePath,
    });
  });

  it('falls back past an env path that does not run', async () => {
    const fake = join(work, 'ffmpeg-broken');
    writeFileSync(fake, '#!/bin/sh\nexit 3\n');
    chmodSync(fake, 0o755);
    process.env.G2STUDIO_FFMPEG = fake;
    const info = await locateFfmpeg();
    expect(info.source).not.toBe('env');
  });

  it('an explicit setting wins, and a broken one is reported instead of silently replaced', async () => {
    delete process.env.G2STUDIO_FFMPEG;
    const found = await locateFfmpeg();
    expect(await locateFfmpeg({ ffmpegPath: found.ffmpegPath })).toMatchObject({
      source: 'setting',
      ffmpegPath: found.ffmpegPath,
    });
    const error = await locateFfmpeg({ ffmpegPath: join(work, 'no-such-ffmpeg') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('ffmpeg-missing');
    expect((error as StudioError).message).toContain('no-such-ffmpeg');
    expect((error as StudioError).fix).toMatch(/install ffmpeg/i);
  });
});

describe('unpackedAsarPath', () => {
  it('points binaries inside app.asar at app.asar.unpacked', () => {
    const packed = [
      '',
      'opt',
      'G2 Studio',
      'resources',
      'app.asar',
      'node_modules',
      'ffmpeg-static',
      'ffmpeg',
    ].join(sep);
    expect(unpackedAsarPath(packed)).toBe(
      packed.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`),
    );
    const already = packed.replace('app.asar', 'app.asar.unpacked');
    expect(unpackedAsarPath(already)).toBe(already);
    expect(unpackedAsarPath('/usr/bin/ffmpeg')).toBe('/usr/bin/ffmpeg');
  });
});
