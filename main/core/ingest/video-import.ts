// Video -> frames, in one decode pass of one ffmpeg process.
//
// ffmpeg decodes the whole video once; a `select` filter keeps about 3N
// candidate frames evenly spaced in time, they are rotated upright (our own
// transpose from the probed rotation, so every ffmpeg version agrees) and piped
// out as raw RGB at full resolution. Each candidate is scored (blur, similarity)
// and encoded to JPEG q92 + a thumbnail as it arrives, so memory holds JPEGs,
// not raw frames. Then N frames are chosen (frame-selection.ts).
//
// Returned frames: ALL candidates (at most 3N) in time order, the chosen N with
// selected=true, so the user can change the choice without decoding again.
// Nothing is written to disk: cancelling kills ffmpeg and leaves nothing behind.

import { execFile } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import type { FfmpegInfo, SourceInfo } from '../../common/domain';
import { StudioError, cancelledError } from '../../common/errors';
import { runProcess } from './child-process';
import { measureFrameQualityAndThumbnail, type FrameQuality } from './frame-quality';
import { selectFrames } from './frame-selection';
import type { IngestedFrame, IngestProgress } from './types';
import { CORRUPT_FIX, probeVideo, type VideoProbe } from './video-probe';

export { probeVideo, type VideoProbe } from './video-probe';

export const DEFAULT_FRAME_COUNT = 16;
/** Candidates decoded per requested frame: room to skip blurry and repeated frames. */
export const CANDIDATES_PER_FRAME = 3;
export const FRAME_JPEG_QUALITY = 92;
export const THUMBNAIL_LONG_SIDE = 256;
/** What ffmpeg's demuxers/decoders print when the data stops or breaks mid-file. */
const TRUNCATION_WARNINGS =
  /read error|ended prematurely|truncat|invalid data found|partial file|error while decoding|moov atom not found/i;
/** Raw frames being encoded at once; ffmpeg is paused (pipe backpressure) beyond that. */
const ENCODE_CONCURRENCY = Math.max(2, Math.min(4, availableParallelism()));

export interface ImportVideoOptions {
  frameCount: number;
  ffmpeg: FfmpegInfo;
  signal?: AbortSignal;
  onProgress?: IngestProgress;
}

const fpsModeSupport = new Map<string, Promise<boolean>>();

/** ffmpeg 5.1 replaced -vsync with -fps_mode; ask the binary which it knows. */
function supportsFpsMode(ffmpegPath: string): Promise<boolean> {
  let known = fpsModeSupport.get(ffmpegPath);
  if (!known) {
    known = new Promise((resolve) => {
      execFile(
        ffmpegPath,
        ['-hide_banner', '-h', 'full'],
        { maxBuffer: 16 << 20, timeout: 15_000 },
        (error, stdout) => resolve(!error && stdout.includes('-fps_mode')),
      );
    });
    fpsModeSupport.set(ffmpegPath, known);
  }
  return known;
}

function rotationFilters(clockwiseDegrees: number): string[] {
  if (clockwiseDegrees === 90) return ['transpose=clock'];
  if (clockwiseDegrees === 270) return ['transpose=cclock'];
  if (clockwiseDegrees === 180) return ['hflip', 'vflip'];
  return [];
}

/**
 * A select expression keeping the first frame of each time slot of `slotS`
 * seconds. ld(0)/st(0) keep the next slot to fill across frames. A quarter of
 * a frame interval is added so a frame sitting exactly on a slot boundary does
 * not fall into the previous slot through rounding.
 */
function slotSelectExpression(startS: number, slotS: number, frameIntervalS: number): string {
  const slot = `floor((t-(${startS.toFixed(6)})+${(frameIntervalS / 4).toFixed(6)})/${slotS.toFixed(9)})`;
  return `select='if(gte(${slot},ld(0)),st(0,${slot}+1)*0+1,0)'`;
}

interface Candidate extends FrameQuality {
  image: Buffer;
  thumbnail: Buffer;
}

async function encodeCandidate(raw: Buffer, width: number, height: number): Promise<Candidate> {
  const pixels = sharp(raw, { raw: { width, height, channels: 3 } });
  const [image, { quality, thumbnail }] = await Promise.all([
    pixels.clone().jpeg({ quality: FRAME_JPEG_QUALITY }).toBuffer(),
    measureFrameQualityAndThumbnail(pixels, THUMBNAIL_LONG_SIDE),
  ]);
  return { image, thumbnail, ...quality };
}

function tooFewFrames(have: number, want: number): StudioError {
  return new StudioError(
    'too-few-frames',
    `The video has only ${have} frame${have === 1 ? '' : 's'}; ${want} were requested.`,
    `Choose ${have} frames or fewer, or use a longer video.`,
  );
}

export async function importVideo(
  path: string,
  opts: ImportVideoOptions,
): Promise<{ source: SourceInfo; frames: IngestedFrame[] }> {
  const what = 'Video import';
  // Progress never goes backwards, whatever rounding the stage arithmetic does.
  let lastProgress = 0;
  const report: IngestProgress = (progress, stage) => {
    lastProgress = Math.min(1, Math.max(lastProgress, progress));
    opts.onProgress?.(lastProgress, stage);
  };
  const wanted = opts.frameCount;
  if (!Number.isInteger(wanted) || wanted < 1)
    throw new StudioError(
      'invalid-input',
      `Frame count must be a positive whole number (got ${wanted}).`,
      'Ask for at least one frame.',
    );
  if (opts.signal?.aborted) throw cancelledError(what);

  report(0, 'probe');
  const probe = await probeVideo(path, opts.ffmpeg, opts.signal);
  if (probe.frameCount < wanted) throw tooFewFrames(probe.frameCount, wanted);
  report(0.05, 'probe');

  const { frames, timestamps } = await decodeCandidates(path, probe, wanted, { ...opts, onProgress: report });
  if (frames.length < wanted) throw tooFewFrames(frames.length, wanted);

  report(0.95, 'score');
  const selected = selectFrames(frames, wanted);
  const { width, height } = decodedSize(probe.width ?? 0, probe.height ?? 0);
  const ingested: IngestedFrame[] = frames.map((frame, index) => ({
    index,
    timestampS: Math.max(0, (timestamps[index] ?? probe.startTimeS) - probe.startTimeS),
    width,
    height,
    image: frame.image,
    imageMime: 'image/jpeg',
    thumbnail: frame.thumbnail,
    blurScore: frame.blurScore,
    selected: selected[index],
    fileName: null,
  }));
  report(1, 'score');
  const { frameCount: _frameCount, startTimeS: _startTimeS, streamIndex: _streamIndex, ...source } = probe;
  return { source, frames: ingested };
}

/** Frames are decoded at most this many pixels on the long side (8K); larger videos are scaled down. */
export const MAX_DECODE_LONG_SIDE = 7680;

/** The size frames are decoded at: the displayed size, scaled down (even sides) above MAX_DECODE_LONG_SIDE. */
export function decodedSize(
  width: number,
  height: number,
): { width: number; height: number; scaled: boolean } {
  const long = Math.max(width, height);
  if (long <= MAX_DECODE_LONG_SIDE) return { width, height, scaled: false };
  const factor = MAX_DECODE_LONG_SIDE / long;
  const even = (v: number): number => Math.max(2, 2 * Math.round((v * factor) / 2));
  return { width: even(width), height: even(height), scaled: true };
}

async function decodeCandidates(
  path: string,
  probe: VideoProbe,
  wanted: number,
  opts: ImportVideoOptions,
): Promise<{ frames: Candidate[]; timestamps: number[] }> {
  const report = opts.onProgress ?? (() => undefined);
  const { width, height, scaled } = decodedSize(probe.width ?? 0, probe.height ?? 0);
  const frameBytes = width * height * 3;
  const durationS = probe.durationS ?? 0;
  const candidateCount = Math.min(CANDIDATES_PER_FRAME * wanted, probe.frameCount);
  const frameIntervalS = probe.fps ? 1 / probe.fps : durationS / probe.frameCount;
  const filters = [
    slotSelectExpression(probe.startTimeS, durationS / candidateCount, frameIntervalS),
    ...rotationFilters(probe.rotation),
    // Above 8K the frame is scaled down while decoding: memory stays bounded
    // (a 16000x16000 frame is 768 MB of RGB) and the model sees 518 px anyway.
    ...(scaled ? [`scale=${width}:${height}:flags=area`] : []),
    'showinfo',
  ];
  const passthrough = (await supportsFpsMode(opts.ffmpeg.ffmpegPath))
    ? ['-fps_mode', 'passthrough']
    : ['-vsync', 'passthrough'];
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-noautorotate',
    '-i',
    path,
    '-map',
    `0:${probe.streamIndex}`,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filters.join(','),
    ...passthrough,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];

  // Our own controller: the caller's signal, or a failure while encoding, stops ffmpeg.
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  // Candidates are encoded concurrently (sharp works on libuv's thread pool),
  // at most ENCODE_CONCURRENCY at a time; each lands at its own index, so the
  // order stays the decode order whichever finishes first.
  const frames: Candidate[] = [];
  const timestamps: number[] = [];
  const encodings: Array<Promise<void>> = [];
  let inFlight = 0;
  let encoded = 0;
  let encodeError: unknown = null;
  let current = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let stderrCarry = '';
  let sizeMismatch: string | null = null;

  const onFrame = (raw: Buffer, child: ChildProcessWithoutNullStreams): void => {
    const index = encodings.length;
    inFlight++;
    if (inFlight >= ENCODE_CONCURRENCY) child.stdout.pause(); // backpressure: ffmpeg waits on the pipe
    encodings.push(
      (async () => {
        try {
          if (encodeError !== null) return;
          frames[index] = await encodeCandidate(raw, width, height);
          encoded++;
          report(0.05 + 0.9 * Math.min(1, encoded / candidateCount), 'decode');
        } catch (error) {
          encodeError ??= error;
          controller.abort();
        } finally {
          inFlight--;
          if (inFlight < ENCODE_CONCURRENCY) child.stdout.resume();
        }
      })(),
    );
  };
  const allEncoded = (): Promise<unknown> => Promise.all(encodings);

  report(0.05, 'decode');
  let result;
  try {
    result = await runProcess(opts.ffmpeg.ffmpegPath, args, {
      signal: controller.signal,
      what: 'Video import',
      onStdout: (chunk, child) => {
        let offset = 0;
        while (offset < chunk.length) {
          const take = Math.min(frameBytes - filled, chunk.length - offset);
          chunk.copy(current, filled, offset, offset + take);
          filled += take;
          offset += take;
          if (filled === frameBytes) {
            onFrame(current, child);
            current = Buffer.allocUnsafe(frameBytes);
            filled = 0;
          }
        }
      },
      onStderr: (text) => {
        const lines = (stderrCarry + text).split('\n');
        stderrCarry = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.includes('showinfo') || !line.includes(' n:')) continue;
          const time = /pts_time:\s*(-?[\d.]+)/.exec(line);
          if (time) timestamps.push(Number(time[1]));
          const size = /\ss:(\d+)x(\d+)/.exec(line);
          if (size && (Number(size[1]) !== width || Number(size[2]) !== height))
            sizeMismatch = `${size[1]}x${size[2]} instead of ${width}x${height}`;
        }
      },
    });
  } catch (error) {
    await allEncoded();
    if (encodeError !== null && !opts.signal?.aborted) throw encodeError;
    throw error;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  await allEncoded();
  if (encodeError !== null) throw encodeError;
  if (sizeMismatch !== null)
    throw new StudioError(
      'internal',
      `ffmpeg produced frames of ${sizeMismatch}.`,
      'Report this video; try another ffmpeg via G2STUDIO_FFMPEG meanwhile.',
    );
  if (result.exitCode !== 0) {
    const lastLine =
      result.stderr
        .trim()
        .split('\n')
        .filter((line) => !line.includes('showinfo'))
        .pop() ?? '';
    throw new StudioError(
      'corrupt-media',
      `The video could not be decoded (${lastLine.trim() || `ffmpeg exit ${result.exitCode}`}).`,
      CORRUPT_FIX,
    );
  }
  // A cut-off file (interrupted copy) often decodes with exit code 0: its
  // pictures just stop early and the demuxer only warns. Both together mean
  // truncation (a declared duration alone can be off, e.g. offset Matroska).
  const lastTimeS = (timestamps.at(-1) ?? probe.startTimeS) - probe.startTimeS;
  const slotS = durationS / candidateCount;
  const demuxerComplained = TRUNCATION_WARNINGS.test(result.stderr);
  if (
    demuxerComplained &&
    frames.length < 0.9 * candidateCount &&
    lastTimeS < durationS - 2 * Math.max(slotS, frameIntervalS)
  )
    throw new StudioError(
      'corrupt-media',
      `"${probe.fileName}" has pictures only up to about ${lastTimeS.toFixed(1)} s of its ${durationS.toFixed(1)} s: the file is probably truncated.`,
      CORRUPT_FIX,
    );
  return { frames, timestamps };
}
