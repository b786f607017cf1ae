// Reads what a video file is (container, codec, sizes, rotation, frame rate,
// duration, audio) with ffprobe, and turns every way a file can be unusable into
// a StudioError a user can act on.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FfmpegInfo, SourceInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { runProcess } from './child-process';
import { emptyFileError, sniffFile, unreadablePathError } from './media-kind';

export interface VideoProbe extends SourceInfo {
  /** Frames in the video stream (from the container index, or counted). */
  frameCount: number;
  /** Presentation time of the first video frame, seconds. */
  startTimeS: number;
  /** Index of the video stream ffmpeg should decode (`-map 0:<index>`). */
  streamIndex: number;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; tags?: Record<string, string> };
}

export const CORRUPT_FIX =
  'The file may be damaged or incomplete: copy it again from the phone or camera, or re-export it.';

function corrupt(path: string, detail: string): StudioError {
  return new StudioError(
    'corrupt-media',
    `"${basename(path)}" cannot be read as a video: ${detail}.`,
    CORRUPT_FIX,
  );
}

/** "30000/1001" -> 29.97; null for "0/0" and junk. */
export function parseRate(rate: string | undefined): number | null {
  if (!rate) return null;
  const [num, den] = rate.split('/').map(Number);
  const value = den === undefined ? num : num / den;
  return Number.isFinite(value) && value > 0 ? value : null;
}

const positive = (text: string | undefined): number | null => {
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) && value > 0 ? value : null;
};

/**
 * Clockwise display rotation (0/90/180/270). ffprobe reports the display matrix
 * as a counter-clockwise angle (av_display_rotation_get), while the legacy
 * `rotate` tag (older ffmpeg, many phone files) is already clockwise.
 */
export function clockwiseRotation(stream: Pick<FfprobeStream, 'side_data_list' | 'tags'>): number {
  let degrees: number | null = null;
  for (const side of stream.side_data_list ?? []) {
    const ccw = Number(side.rotation);
    if (side.rotation !== undefined && Number.isFinite(ccw)) degrees = -ccw;
  }
  if (degrees === null && stream.tags?.rotate !== undefined) {
    const cw = Number(stream.tags.rotate);
    if (Number.isFinite(cw)) degrees = cw;
  }
  if (degrees === null) return 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

function containerName(formatName: string, tags: Record<string, string> | undefined): string {
  const first = formatName.split(',')[0];
  if (first === 'mov') return tags?.major_brand?.trim() === 'qt' ? 'mov' : 'mp4';
  return first;
}

/**
 * An MP4/MOV whose last top-level box runs past the end of the file was cut
 * short (an interrupted copy). ffprobe may still read it when the index (moov)
 * comes first, so check the box chain ourselves.
 */
async function isoBoxesComplete(path: string, size: number): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(16);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(header, 0, 16, offset);
      if (bytesRead < 8) return false;
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1) {
        if (bytesRead < 16) return false;
        boxSize = Number(header.readBigUInt64BE(8));
      } else if (boxSize === 0) {
        return true; // box extends to end of file by definition
      }
      if (boxSize < 8) return false;
      offset += boxSize;
    }
    return offset === size;
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function runFfprobe(
  ffmpeg: FfmpegInfo,
  args: string[],
  signal: AbortSignal | undefined,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const result = await runProcess(ffmpeg.ffprobePath, ['-v', 'error', ...args], {
    signal,
    what: 'Video import',
  });
  return { ok: result.exitCode === 0, stdout: result.stdout.toString('utf8'), stderr: result.stderr };
}

/** Packet timestamps of the first ~240 video packets: a variable frame rate shows as uneven steps. */
async function looksVariableFrameRate(
  path: string,
  ffmpeg: FfmpegInfo,
  streamIndex: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const { ok, stdout } = await runFfprobe(
    ffmpeg,
    [
      '-select_streams',
      String(streamIndex),
      '-read_intervals',
      '%+#240',
      '-show_entries',
      'packet=pts_time',
      '-of',
      'csv=p=0',
      path,
    ],
    signal,
  );
  if (!ok) return false;
  const times = stdout
    .split('\n')
    .map((line) => Number(line.split(',')[0]))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) steps.push(times[i] - times[i - 1]);
  if (steps.length < 4) return false;
  steps.sort((a, b) => a - b);
  const median = steps[steps.length >> 1];
  // Ignore timestamp rounding jitter; a phone's VFR varies by far more than 20%.
  return steps.some((step) => Math.abs(step - median) > 0.2 * median);
}

export async function probeVideo(
  path: string,
  ffmpeg: FfmpegInfo,
  signal?: AbortSignal,
): Promise<VideoProbe> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw unreadablePathError(path, error);
  }
  if (info.isDirectory())
    throw new StudioError(
      'unsupported-file',
      `"${path}" is a folder, not a video.`,
      'Choose a video file, or import the folder as photos.',
    );
  if (info.size === 0) throw emptyFileError(path);
  const container = await sniffFile(path);
  if (container.kind === 'audio')
    throw new StudioError(
      'no-video-stream',
      `"${basename(path)}" is an audio file; it has no pictures.`,
      'Choose a video file with a picture track.',
    );
  if (container.kind !== 'video')
    throw new StudioError(
      'unsupported-file',
      `"${basename(path)}" is not a video file we can read${container.kind === 'unknown' ? '' : ` (it looks like ${container.kind === 'image' ? 'an image' : 'a point cloud'})`}.`,
      'Choose an MP4, MOV, MKV or WebM video (H.264 or HEVC), for example straight from a phone.',
    );
  if (container.format === 'mp4' && !(await isoBoxesComplete(path, info.size)))
    throw corrupt(path, 'the file is truncated');

  // Hash the file while ffprobe works; a read error here resurfaces where it is awaited.
  const checksum = sha256File(path);
  checksum.catch(() => undefined);
  const probe = await runFfprobe(
    ffmpeg,
    ['-print_format', 'json', '-show_format', '-show_streams', path],
    signal,
  );
  if (!probe.ok) {
    const reason =
      probe.stderr
        .trim()
        .split('\n')
        .pop()
        ?.replace(/^.*?:\s*/, '') || 'ffprobe could not read it';
    throw corrupt(path, reason.toLowerCase());
  }
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(probe.stdout) as FfprobeOutput;
  } catch {
    throw corrupt(path, 'ffprobe gave no readable description of it');
  }
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video)
    throw new StudioError(
      'no-video-stream',
      `"${basename(path)}" has no video track${streams.some((s) => s.codec_type === 'audio') ? ' (only audio)' : ''}.`,
      'Choose a video file with a picture track.',
    );
  if (!video.width || !video.height) throw corrupt(path, 'the video track has no picture size');

  const rotation = clockwiseRotation(video);
  const swap = rotation === 90 || rotation === 270;
  const avgFps = parseRate(video.avg_frame_rate);
  const realFps = parseRate(video.r_frame_rate);
  const fps = avgFps ?? realFps;
  const durationS = positive(video.duration) ?? positive(parsed.format?.duration);
  let frameCount = Number(video.nb_frames);
  if (!Number.isFinite(frameCount) || frameCount <= 0) {
    // Matroska/WebM carry no frame count: count packets (demux only, no decode).
    const counted = await runFfprobe(
      ffmpeg,
      [
        '-select_streams',
        String(video.index),
        '-count_packets',
        '-show_entries',
        'stream=nb_read_packets',
        '-of',
        'csv=p=0',
        path,
      ],
      signal,
    );
    frameCount = Number(counted.stdout.trim().split('\n')[0]);
    if (!Number.isFinite(frameCount) || frameCount <= 0)
      frameCount = durationS && fps ? Math.floor(durationS * fps) : 0;
  }
  if (frameCount <= 0 || durationS === null) throw corrupt(path, 'the video track has no frames');

  const ratesDisagree = avgFps !== null && realFps !== null && Math.abs(avgFps - realFps) > 0.02 * realFps;
  const variableFrameRate =
    ratesDisagree || (await looksVariableFrameRate(path, ffmpeg, video.index, signal));

  return {
    fileName: basename(path),
    sha256: await checksum,
    bytes: info.size,
    container: containerName(parsed.format?.format_name ?? '', parsed.format?.tags),
    codec: video.codec_name ?? null,
    codedWidth: video.width,
    codedHeight: video.height,
    width: swap ? video.height : video.width,
    height: swap ? video.width : video.height,
    rotation,
    fps,
    durationS,
    variableFrameRate,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    frameCount,
    // ffmpeg (without -copyts) shifts the file so its earliest stream starts at 0.
    startTimeS: Math.max(0, (Number(video.start_time) || 0) - (Number(parsed.format?.start_time) || 0)),
    streamIndex: video.index,
  };
}
