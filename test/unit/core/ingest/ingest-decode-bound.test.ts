// Decode memory is bounded: frames larger than 8K on the long side are scaled
// down while ffmpeg decodes them (a 16000x16000 MJPEG once took 5.4 GB).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FfmpegInfo } from '../../../../main/common/domain';
import { locateFfmpeg } from '../../../../main/core/ingest/ffmpeg-locator';
import { MAX_DECODE_LONG_SIDE, decodedSize, importVideo } from '../../../../main/core/ingest/video-import';

let ffmpeg: FfmpegInfo;
let dir: string;
beforeAll(async () => {
  ffmpeg = await locateFfmpeg({});
  dir = mkdtempSync(join(tmpdir(), 'g2-decode-bound-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decode size bound', () => {
  it('keeps sizes up to 8K and scales larger ones to 8K on the long side, even sides', () => {
    expect(decodedSize(3840, 2160)).toEqual({ width: 3840, height: 2160, scaled: false });
    expect(decodedSize(16000, 16000)).toEqual({
      width: MAX_DECODE_LONG_SIDE,
      height: MAX_DECODE_LONG_SIDE,
      scaled: true,
    });
    const tall = decodedSize(300, 9001);
    expect(tall.height).toBe(MAX_DECODE_LONG_SIDE);
    expect(tall.width % 2).toBe(0);
  });

  it('imports a video wider than 8K with frames scaled down at decode time', async () => {
    const path = join(dir, 'wide.avi');
    execFileSync(ffmpeg.ffmpegPath, [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=8200x200:rate=4:duration=2',
      ],
      ...['-c:v', 'mjpeg', '-q:v', '5', path],
    ]);
    const { frames } = await importVideo(path, { frameCount: 2, ffmpeg });
    expect(frames.length).toBeGreaterThanOrEqual(2);
    for (const frame of frames) {
      expect([frame.width, frame.height]).toEqual([MAX_DECODE_LONG_SIDE, 188]);
      const meta = await sharp(frame.image).metadata();
      expect([meta.width, meta.height]).toEqual([MAX_DECODE_LONG_SIDE, 188]);
    }
  });
});
