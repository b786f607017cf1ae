// What a path holds, judged by its first bytes (magic numbers), not by its
// extension: a phone can hand over a HEVC video named .jpg, and a text file
// named .mp4 must not reach ffmpeg.

import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { StudioError } from '../../common/errors';

export type MediaKind = 'video' | 'image' | 'pointcloud' | 'folder' | 'unknown';

/** Finer than MediaKind: importers use it to pick a reader and to phrase errors. */
export type ContainerKind =
  | { kind: 'video'; format: 'mp4' | 'matroska' | 'avi' | 'mpeg-ts' | 'mpeg-ps' | 'flv' | 'ogg' }
  | { kind: 'audio'; format: 'wav' | 'mp3' | 'flac' | 'aac' }
  | { kind: 'image'; format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmp' | 'heif' | 'avif' }
  | { kind: 'pointcloud'; format: 'ply' | 'glb' | 'gltf' }
  | { kind: 'unknown' };

const SNIFF_BYTES = 4096;

/** ISO-BMFF brands that are still images, not movies. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** Top-level QuickTime atoms that can open an old .mov without an ftyp box. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

export function unreadablePathError(path: string, cause?: unknown): StudioError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES'
        ? 'cannot be read (permission denied)'
        : 'cannot be read';
  return new StudioError(
    'unreadable-path',
    `"${path}" ${why}.`,
    'Check the path and that the file is readable, then try again.',
    {
      cause,
    },
  );
}

export function emptyFileError(path: string): StudioError {
  return new StudioError(
    'empty-file',
    `"${path}" is empty (0 bytes).`,
    'Copy the file again from its source; it may not have finished transferring.',
  );
}

/** Classify a buffer holding the first bytes of a file. `fileName` only breaks ties (.gltf JSON). */
export function sniffContainer(head: Buffer, fileName = ''): ContainerKind {
  const ascii = (start: number, end: number): string => head.toString('latin1', start, end);
  if (head.length >= 8 && ascii(4, 8) === 'ftyp') {
    const brands = [ascii(8, 12)];
    const boxSize = head.readUInt32BE(0);
    for (let offset = 16; offset + 4 <= Math.min(boxSize, head.length); offset += 4)
      brands.push(ascii(offset, offset + 4));
    const major = brands[0];
    if (AVIF_BRANDS.has(major)) return { kind: 'image', format: 'avif' };
    if (HEIF_BRANDS.has(major)) return { kind: 'image', format: 'heif' };
    if (major === 'M4A ' || major === 'M4B ') return { kind: 'audio', format: 'aac' };
    return { kind: 'video', format: 'mp4' };
  }
  if (head.length >= 8 && QUICKTIME_ATOMS.has(ascii(4, 8)) && head.readUInt32BE(0) >= 8)
    return { kind: 'video', format: 'mp4' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return { kind: 'video', format: 'matroska' };
  if (head.length >= 12 && ascii(0, 4) === 'RIFF') {
    const form = ascii(8, 12);
    if (form === 'AVI ') return { kind: 'video', format: 'avi' };
    if (form === 'WAVE') return { kind: 'audio', format: 'wav' };
    if (form === 'WEBP') return { kind: 'image', format: 'webp' };
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
    return { kind: 'image', format: 'jpeg' };
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a)
    return { kind: 'image', format: 'png' };
  if (head.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a'))
    return { kind: 'image', format: 'gif' };
  if (head.length >= 4 && (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*'))
    return { kind: 'image', format: 'tiff' };
  if (head.length >= 14 && ascii(0, 2) === 'BM' && head.readUInt32LE(2) > 14)
    return { kind: 'image', format: 'bmp' };
  if (head.length >= 4 && (ascii(0, 4) === 'ply\n' || ascii(0, 5) === 'ply\r\n'))
    return { kind: 'pointcloud', format: 'ply' };
  if (head.length >= 12 && ascii(0, 4) === 'glTF') return { kind: 'pointcloud', format: 'glb' };
  if (head.length >= 4 && ascii(0, 4) === 'fLaC') return { kind: 'audio', format: 'flac' };
  if (
    head.length >= 3 &&
    (ascii(0, 3) === 'ID3' ||
      (head[0] === 0xff && (head[1] & 0xe0) === 0xe0 && head.length >= 4 && isMpegAudioHeader(head)))
  )
    return { kind: 'audio', format: 'mp3' };
  if (head.length >= 4 && ascii(0, 4) === 'OggS') return { kind: 'video', format: 'ogg' };
  if (head.length >= 4 && ascii(0, 4) === 'FLV\x01') return { kind: 'video', format: 'flv' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x000001ba) return { kind: 'video', format: 'mpeg-ps' };
  if (isMpegTransportStream(head)) return { kind: 'video', format: 'mpeg-ts' };
  if (extname(fileName).toLowerCase() === '.gltf') {
    const text = head.toString('utf8').trimStart();
    if (text.startsWith('{') && text.includes('"asset"')) return { kind: 'pointcloud', format: 'gltf' };
  }
  return { kind: 'unknown' };
}

function isMpegAudioHeader(head: Buffer): boolean {
  // Frame sync plus a valid layer, bitrate index and sample-rate index.
  const layer = (head[1] >> 1) & 3;
  const bitrateIndex = head[2] >> 4;
  const sampleRateIndex = (head[2] >> 2) & 3;
  return layer !== 0 && bitrateIndex !== 15 && bitrateIndex !== 0 && sampleRateIndex !== 3;
}

function isMpegTransportStream(head: Buffer): boolean {
  // 0x47 sync byte every 188 bytes (or 192 with a timecode prefix, as in .m2ts).
  for (const [packet, offset] of [
    [188, 0],
    [192, 4],
  ] as const) {
    if (head.length < offset + packet * 3) continue;
    let ok = true;
    for (let i = 0; i < 3 && ok; i++) ok = head[offset + i * packet] === 0x47;
    if (ok) return true;
  }
  return false;
}

/** Read the first bytes of a file; throws unreadable-path / empty-file as StudioErrors. */
export async function readHead(path: string, bytes = SNIFF_BYTES): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw unreadablePathError(path, error);
  }
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    if (bytesRead === 0) throw emptyFileError(path);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw unreadablePathError(path, error);
  } finally {
    await handle.close();
  }
}

/** Finer classification of a file by content; throws for unreadable or empty files. */
export async function sniffFile(path: string): Promise<ContainerKind> {
  return sniffContainer(await readHead(path), path);
}

/**
 * What the path holds, by content. Throws StudioError('unreadable-path') when it
 * cannot be read and StudioError('empty-file') for a 0-byte file; audio-only
 * formats (wav, mp3, flac, m4a) are 'unknown' because the studio cannot use them.
 */
export async function detectMediaKind(path: string): Promise<MediaKind> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw unreadablePathError(path, error);
  }
  if (info.isDirectory()) return 'folder';
  if (!info.isFile()) return 'unknown';
  const container = await sniffFile(path);
  return container.kind === 'audio' ? 'unknown' : container.kind;
}
