// Video ingest against real ffmpeg processes and the shared sample videos.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FfmpegInfo } from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { locateFfmpeg } from '../../../../main/core/ingest/ffmpeg-locator';
import { importVideo, probeVideo } from '../../../../main/core/ingest/video-import';
import { clockwiseRotation } from '../../../../main/core/ingest/video-probe';
import { SHARED_DIR } from '../../../support/shared-dir';

const SAMPLES = `${SHARED_DIR}/samples/video`;
const walk = join(SAMPLES, 'dl3dv-walk.mp4');
const portrait = join(SAMPLES, 'arkit-portrait.mov');
const house = join(SAMPLES, 'house.mp4');

let ffmpeg: FfmpegInfo;
let work: string;
let privateTmp: string;
const originalTmpdir = process.env.TMPDIR;

/** ffmpeg children of this test process still alive (Linux /proc). */
function childFfmpegProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('ff')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function expectStudioError(promise: Promise<unknown>, code: string): Promise<StudioError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  const studioError = error as StudioError;
  expect(studioError.code).toBe(code);
  expect(studioError.fix.length).toBeGreaterThan(10);
  expect(studioError.message).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
  return studioError;
}

beforeAll(async () => {
  ffmpeg = await locateFfmpeg();
  work = mkdtempSync(join(tmpdir(), 'g2-ingest-video-'));
  // Everything ffmpeg or the importer might write to a temp folder lands here, so we can see it.
  privateTmp = mkdtempSync(join(tmpdir(), 'g2-ingest-tmp-'));
  process.env.TMPDIR = privateTmp;
});

afterAll(() => {
  process.env.TMPDIR = originalTmpdir;
  if (originalTmpdir === undefined) delete process.env.TMPDIR;
  rmSync(work, { recursive: true, force: true });
  rmSync(privateTmp, { recursive: true, force: true });
});

describe('probeVideo', () => {
  it('reads a landscape H.264 MP4 with audio', async () => {
    const info = await probeVideo(walk, ffmpeg);
    expect(info).toMatchObject({
      fileName: 'dl3dv-walk.mp4',
      container: 'mp4',
      codec: 'h264',
      codedWidth: 960,
      codedHeight: 540,
      width: 960,
      height: 540,
      rotation: 0,
      variableFrameRate: false,
      hasAudio: true,
      frameCount: 20,
    });
    expect(info.fps).toBeCloseTo(5, 3);
    expect(info.durationS).toBeCloseTo(4, 1);
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.bytes).toBe(readFileSync(walk).length);
  });

  it('reads the display-matrix rotation of a portrait HEVC MOV (clockwise degrees, sides swapped)', async () => {
    const info = await probeVideo(portrait, ffmpeg);
    expect(info).toMatchObject({
      container: 'mov',
      codec: 'hevc',
      codedWidth: 640,
      codedHeight: 480,
      width: 480,
      height: 640,
    });
    // ffprobe says "rotation: 90" (counter-clockwise display matrix); shown upright it is turned 270° clockwise.
    expect(info.rotation).toBe(270);
  });

  it('reads a video nobody here encoded (no audio)', async () => {
    const info = await probeVideo(house, ffmpeg);
    expect(info).toMatchObject({ width: 672, height: 384, frameCount: 8, hasAudio: false, rotation: 0 });
  });
});

describe('rotation', () => {
  it('reads the display matrix (counter-clockwise) and the legacy rotate tag (clockwise) as clockwise degrees', () => {
    expect(clockwiseRotation({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] })).toBe(
      270,
    );
    expect(clockwiseRotation({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })).toBe(
      90,
    );
    expect(clockwiseRotation({ side_data_list: [{ rotation: 180 }] })).toBe(180);
    expect(clockwiseRotation({ tags: { rotate: '90' } })).toBe(90);
    expect(clockwiseRotation({ tags: { rotate: '270' } })).toBe(270);
    expect(clockwiseRotation({})).toBe(0);
  });

  it('a rotated video comes out the way ffmpeg itself shows it, for the other quarter turn too', async () => {
    const plain = join(work, 'landscape.mp4');
    const tagged = join(work, 'landscape-rotated.mp4');
    execFileSync(ffmpeg.ffmpegPath, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=1',
      '-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p', plain]); // prettier-ignore
    // Same pixels, only a display rotation added (stream copy). ffmpeg versions disagree on
    // which way this muxer tag turns, so the expectation below comes from the file itself.
    execFileSync(ffmpeg.ffmpegPath, [
      '-v',
      'error',
      '-y',
      '-i',
      plain,
      '-c',
      'copy',
      '-metadata:s:v:0',
      'rotate=270',
      tagged,
    ]);
    const info = await probeVideo(tagged, ffmpeg);
    expect([90, 270]).toContain(info.rotation);
    expect([info.width, info.height, info.codedWidth, info.codedHeight]).toEqual([240, 320, 320, 240]);
    // ffmpeg's own autorotation (the way players show it) of the first frame.
    const shownByFfmpeg = execFileSync(
      ffmpeg.ffmpegPath,
      ['-v', 'error', '-i', tagged, '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
      {
        maxBuffer: 1 << 24,
      },
    );
    const [upright, reference] = await Promise.all([
      importVideo(tagged, { frameCount: 2, ffmpeg }),
      importVideo(plain, { frameCount: 2, ffmpeg }),
    ]);
    const ours = await sharp(upright.frames[0].image).raw().toBuffer({ resolveWithObject: true });
    expect([ours.info.width, ours.info.height]).toEqual([240, 320]);
    const turnedByRotation = await sharp(reference.frames[0].image).rotate(info.rotation).raw().toBuffer();
    const meanDiff = (a: Uint8Array, b: Uint8Array): number => {
      let total = 0;
      for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
      return total / a.length;
    };
    expect(meanDiff(ours.data, shownByFfmpeg)).toBeLessThan(4); // JPEG noise only
    expect(meanDiff(ours.data, turnedByRotation)).toBeLessThan(4); // "rotation" is clockwise degrees
  });
});

describe('variable frame rate', () => {
  it('notices uneven frame timing and still spreads the picks over time', async () => {
    // 30 frames: the first 20 at 30 fps, the last 10 at 5 fps (a phone slowing down in low light).
    const vfr = join(work, 'vfr.mp4');
    const passthrough = execFileSync(ffmpeg.ffmpegPath, ['-hide_banner', '-h', 'full'])
      .toString()
      .includes('-fps_mode')
      ? ['-fps_mode', 'passthrough']
      : ['-vsync', 'passthrough'];
    execFileSync(ffmpeg.ffmpegPath, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=1',
      '-vf', "setpts='if(lt(N,20),N/30,20/30+(N-20)/5)/TB'", ...passthrough, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', vfr]); // prettier-ignore
    const info = await probeVideo(vfr, ffmpeg);
    expect(info.variableFrameRate).toBe(true);
    expect(info.frameCount).toBe(30);
    const { frames } = await importVideo(vfr, { frameCount: 4, ffmpeg });
    const times = frames.map((f) => f.timestampS!);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    // Time-spread, not frame-spread: the slow second part (0.67 s .. 2.67 s) holds most candidates.
    expect(times.filter((t) => t > 0.7).length).toBeGreaterThan(times.length / 2);
    expect(times.at(-1)!).toBeGreaterThan(2);
  });
});

describe('timeline offsets', () => {
  it('a video whose timestamps start at 5 s gives frames timed from its start', async () => {
    const late = join(work, 'starts-at-5s.mkv');
    execFileSync(ffmpeg.ffmpegPath, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=3',
      '-c:v', 'libx264', '-output_ts_offset', '5', late]); // prettier-ignore
    const { frames } = await importVideo(late, { frameCount: 5, ffmpeg });
    expect(frames.length).toBeGreaterThanOrEqual(5);
    expect(frames[0].timestampS).toBe(0);
    for (let i = 1; i < frames.length; i++)
      expect(frames[i].timestampS!).toBeGreaterThan(frames[i - 1].timestampS!);
    expect(frames.at(-1)!.timestampS!).toBeGreaterThan(2);
    expect(frames.at(-1)!.timestampS!).toBeLessThan(3);
  });
});

describe('importVideo', () => {
  it('extracts evenly spread, upright, decodable frames from the landscape sample', async () => {
    const stages: string[] = [];
    const progress: number[] = [];
    const { source, frames } = await importVideo(walk, {
      frameCount: 16,
      ffmpeg,
      onProgress: (p, stage) => {
        progress.push(p);
        stages.push(stage);
      },
    });
    expect(source.width).toBe(960);
    // 3N = 48 candidates wanted, the video has 20 frames: every frame is a candidate.
    expect(frames).toHaveLength(20);
    expect(frames.filter((f) => f.selected)).toHaveLength(16);
    expect(frames.map((f) => f.index)).toEqual([...Array(20).keys()]);
    for (let i = 1; i < frames.length; i++)
      expect(frames[i].timestampS!).toBeGreaterThan(frames[i - 1].timestampS!);
    expect(frames[0].timestampS).toBeCloseTo(0, 3);
    expect(frames[19].timestampS).toBeCloseTo(3.8, 2);
    for (const frame of frames.slice(0, 3)) {
      const image = await sharp(frame.image).metadata();
      expect([image.format, image.width, image.height]).toEqual(['jpeg', 960, 540]);
      const thumb = await sharp(frame.thumbnail).metadata();
      expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 256, 144]);
      expect(frame.blurScore).toBeGreaterThan(0);
    }
    expect(new Set(stages)).toEqual(new Set(['probe', 'decode', 'score']));
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    expect(progress.at(-1)).toBe(1);
  });

  it('turns the portrait HEVC MOV upright: 480x640 frames that match the source photos', async () => {
    const { frames } = await importVideo(portrait, { frameCount: 8, ffmpeg });
    expect(frames).toHaveLength(20);
    expect(frames.filter((f) => f.selected)).toHaveLength(8);
    const decoded = await sharp(frames[0].image).raw().toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height]).toEqual([480, 640]);
    // The video was made from the ARKitScenes photos: frame 0 is the first photo held upright.
    const photos = readdirSync(`${SHARED_DIR}/samples/arkitscenes`).sort();
    const upright = await sharp(join(`${SHARED_DIR}/samples/arkitscenes`, photos[0]))
      .rotate(270)
      .raw()
      .toBuffer();
    const sideways = await sharp(join(`${SHARED_DIR}/samples/arkitscenes`, photos[0]))
      .rotate(90)
      .raw()
      .toBuffer();
    const meanDiff = (a: Buffer, b: Buffer): number => {
      let total = 0;
      for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
      return total / a.length;
    };
    expect(meanDiff(decoded.data, upright)).toBeLessThan(6);
    expect(meanDiff(decoded.data, sideways)).toBeGreaterThan(30);
    expect((await sharp(frames[0].thumbnail).metadata()).height).toBe(256);
  });

  it('takes all 8 frames of the short real clip, one per second', async () => {
    const { frames } = await importVideo(house, { frameCount: 8, ffmpeg });
    expect(frames.map((f) => f.timestampS)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(frames.every((f) => f.selected && f.width === 672 && f.height === 384)).toBe(true);
  });

  it('skips blurry candidates when choosing frames', async () => {
    // 24 sharp test-pattern frames at 10 fps; every 4th frame is heavily blurred.
    const blurry = join(work, 'every-fourth-blurry.mp4');
    execFileSync(ffmpeg.ffmpegPath, [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=2.4',
      '-vf', "boxblur=luma_radius=8:luma_power=3:enable='not(mod(n,4))'",
      '-c:v', 'libx264', '-qp', '10', '-pix_fmt', 'yuv420p', blurry,
    ]); // prettier-ignore
    const { frames } = await importVideo(blurry, { frameCount: 4, ffmpeg });
    expect(frames).toHaveLength(12); // 3N candidates: frames 0, 2, 4, ... 22
    const frameNumber = (t: number | null): number => Math.round((t ?? 0) * 10);
    const isBlurry = frames.map((f) => frameNumber(f.timestampS) % 4 === 0);
    const selected = frames.filter((f) => f.selected);
    expect(selected).toHaveLength(4);
    expect(selected.every((f) => frameNumber(f.timestampS) % 4 !== 0)).toBe(true);
    const sharpest = Math.max(...frames.filter((_, i) => isBlurry[i]).map((f) => f.blurScore));
    const weakest = Math.min(...frames.filter((_, i) => !isBlurry[i]).map((f) => f.blurScore));
    expect(sharpest).toBeLessThan(weakest);
    // Still spread over the whole clip: one pick per quarter.
    expect(selected.map((f) => Math.floor(frameNumber(f.timestampS) / 6))).toEqual([0, 1, 2, 3]);
  });

  it('cancelling mid-extraction kills ffmpeg and leaves no files behind', async () => {
    const controller = new AbortController();
    let decodedBeforeCancel = 0;
    const promise = importVideo(walk, {
      frameCount: 16,
      ffmpeg,
      signal: controller.signal,
      onProgress: (p, stage) => {
        if (stage === 'decode' && p > 0.05 && decodedBeforeCancel++ === 0) {
          expect(childFfmpegProcesses().length).toBe(1); // ffmpeg is running right now
          controller.abort();
        }
      },
    });
    await expectStudioError(promise, 'cancelled');
    expect(decodedBeforeCancel).toBeGreaterThan(0);
    expect(childFfmpegProcesses()).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });
});

describe('importVideo bad input', () => {
  it('an empty file', async () => {
    const empty = join(work, 'empty.mp4');
    writeFileSync(empty, '');
    await expectStudioError(importVideo(empty, { frameCount: 4, ffmpeg }), 'empty-file');
  });

  it('a truncated MP4 (index first) and a truncated MOV (index last)', async () => {
    for (const [sample, keep] of [
      [walk, 0.5],
      [portrait, 0.6],
    ] as const) {
      const cut = join(work, `cut-${sample.split('/').pop()}`);
      copyFileSync(sample, cut);
      truncateSync(cut, Math.floor(readFileSync(sample).length * keep));
      const error = await expectStudioError(importVideo(cut, { frameCount: 4, ffmpeg }), 'corrupt-media');
      expect(error.message).toContain(cut.split('/').pop());
    }
  });

  it('a truncated MKV that still decodes its first seconds', async () => {
    const mkv = join(work, 'walk.mkv');
    execFileSync(ffmpeg.ffmpegPath, ['-v', 'error', '-y', '-i', walk, '-c', 'copy', mkv]);
    truncateSync(mkv, Math.floor(readFileSync(mkv).length * 0.5));
    const error = await expectStudioError(importVideo(mkv, { frameCount: 4, ffmpeg }), 'corrupt-media');
    expect(error.message).toContain('truncated');
  });

  it('a text file named .mp4', async () => {
    const text = join(work, 'notes.mp4');
    writeFileSync(text, 'These are my notes, not a video.\n');
    await expectStudioError(importVideo(text, { frameCount: 4, ffmpeg }), 'unsupported-file');
  });

  it('audio-only files (an MP4 with only AAC, and a WAV)', async () => {
    for (const name of ['tone.mp4', 'tone.wav']) {
      const audio = join(work, name);
      execFileSync(ffmpeg.ffmpegPath, [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:duration=1',
        audio,
      ]);
      await expectStudioError(importVideo(audio, { frameCount: 4, ffmpeg }), 'no-video-stream');
    }
  });

  it('an ffmpeg that has gone missing since it was located', async () => {
    const gone = {
      ...ffmpeg,
      ffmpegPath: join(work, 'deleted-ffmpeg'),
      ffprobePath: join(work, 'deleted-ffprobe'),
    };
    await expectStudioError(importVideo(walk, { frameCount: 4, ffmpeg: gone }), 'ffmpeg-missing');
  });

  it('a missing path', async () => {
    await expectStudioError(
      importVideo(join(work, 'nope.mp4'), { frameCount: 4, ffmpeg }),
      'unreadable-path',
    );
  });

  it('a video too short for the requested frames says how many it has', async () => {
    const error = await expectStudioError(importVideo(house, { frameCount: 16, ffmpeg }), 'too-few-frames');
    expect(error.message).toContain('only 8 frames');
  });

  it('left no ffmpeg process and no temp file behind', () => {
    expect(childFfmpegProcesses()).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });
});
