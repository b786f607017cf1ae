// Photos -> frames. Folders expand to the image files directly inside them
// (judged by content, not extension); everything is sorted by file name in
// natural order (IMG_2 before IMG_10), the order a camera wrote them.
//
// The model must see exactly the file, as the official code does (it opens the
// file with PIL): when no EXIF rotation is needed the ORIGINAL JPEG/PNG bytes are
// kept. Photos with an EXIF orientation are turned upright and re-encoded in
// their own format (JPEG q92 / PNG); other formats (WebP, TIFF, ...) are
// converted to PNG (lossless sources) or JPEG q92 (lossy sources).

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { StudioError, cancelledError } from '../../common/errors';
import { measureFrameQualityAndThumbnail } from './frame-quality';
import { emptyFileError, sniffFile, unreadablePathError } from './media-kind';
import type { IngestedFrame, IngestProgress } from './types';
import { FRAME_JPEG_QUALITY, THUMBNAIL_LONG_SIDE } from './video-import';

export interface ImportPhotosOptions {
  signal?: AbortSignal;
  onProgress?: IngestProgress;
}

const nameOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const LOSSLESS_FORMATS = new Set(['png', 'tiff', 'bmp', 'gif']);

const unsupportedPhoto = (path: string, why: string): StudioError =>
  new StudioError(
    'unsupported-file',
    `"${basename(path)}" ${why}.`,
    'Choose JPEG or PNG photos (WebP and TIFF also work).',
  );

/** The image files a list of files and folders stands for, in natural name order. */
export async function expandPhotoPaths(paths: string[], signal?: AbortSignal): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (signal?.aborted) throw cancelledError('Photo import');
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw unreadablePathError(path, error);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      throw unreadablePathError(path, error);
    }
    let found = 0;
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const file = join(path, entry.name);
      try {
        if ((await sniffFile(file)).kind !== 'image') continue;
      } catch {
        continue; // an empty or unreadable stray file in a photo folder is not a reason to stop
      }
      files.push(file);
      found++;
    }
    if (found === 0)
      throw new StudioError(
        'unsupported-file',
        `The folder "${path}" has no photos in it.`,
        'Choose a folder that holds JPEG or PNG photos.',
      );
  }
  return files.sort((a, b) => nameOrder.compare(basename(a), basename(b)) || nameOrder.compare(a, b));
}

async function ingestPhoto(path: string, index: number): Promise<IngestedFrame> {
  const container = await sniffFile(path);
  if (container.kind !== 'image') throw unsupportedPhoto(path, 'is not a photo');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw unreadablePathError(path, error);
  }
  if (bytes.length === 0) throw emptyFileError(path);
  try {
    const metadata = await sharp(bytes).metadata();
    const orientation = metadata.orientation ?? 1;
    const format = metadata.format;
    // EXIF orientations 5..8 turn the picture by 90°: displayed width is the stored height.
    const swapsSides = orientation >= 5;
    const keepOriginal = orientation === 1 && (format === 'jpeg' || format === 'png');
    // failOn 'error': a truncated photo fails here instead of decoding to grey.
    const upright = sharp(bytes, { failOn: 'error' }).rotate();
    let image = bytes;
    let imageMime: IngestedFrame['imageMime'] = format === 'png' ? 'image/png' : 'image/jpeg';
    if (!keepOriginal) {
      const lossless = LOSSLESS_FORMATS.has(format ?? '');
      imageMime = lossless ? 'image/png' : 'image/jpeg';
      image = lossless
        ? await upright.clone().png().toBuffer()
        : await upright.clone().jpeg({ quality: FRAME_JPEG_QUALITY }).toBuffer();
    }
    const { quality, thumbnail } = await measureFrameQualityAndThumbnail(upright, THUMBNAIL_LONG_SIDE);
    return {
      index,
      timestampS: null,
      width: swapsSides ? (metadata.height ?? 0) : (metadata.width ?? 0),
      height: swapsSides ? (metadata.width ?? 0) : (metadata.height ?? 0),
      image,
      imageMime,
      thumbnail,
      blurScore: quality.blurScore,
      selected: true,
      fileName: basename(path),
    };
  } catch (error) {
    if (error instanceof StudioError) throw error;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    // sharp's bundled libvips decodes AVIF but not HEVC-coded HEIC (patents): say what to do.
    if (container.format === 'heif')
      throw new StudioError(
        'unsupported-file',
        `"${basename(path)}" is a HEIC photo, which this build cannot decode.`,
        'Convert it to JPEG first (on an iPhone: Settings > Camera > Formats > Most Compatible).',
        { cause: error },
      );
    if (/unsupported image format/i.test(reason))
      throw unsupportedPhoto(path, `is in a format this build cannot decode (${reason})`);
    throw new StudioError(
      'corrupt-media',
      `"${basename(path)}" is damaged and cannot be decoded (${reason}).`,
      'Copy the photo again from its source, or leave it out.',
      {
        cause: error,
      },
    );
  }
}

export async function importPhotos(
  paths: string[],
  opts: ImportPhotosOptions = {},
): Promise<{ frames: IngestedFrame[] }> {
  const report = opts.onProgress ?? (() => undefined);
  report(0, 'scan');
  const files = await expandPhotoPaths(paths, opts.signal);
  if (files.length === 0)
    throw new StudioError(
      'invalid-input',
      'No photos were given.',
      'Choose at least one photo or a folder of photos.',
    );
  const frames: IngestedFrame[] = [];
  for (const [index, file] of files.entries()) {
    if (opts.signal?.aborted) throw cancelledError('Photo import');
    report(0.05 + (0.95 * index) / files.length, 'decode');
    frames.push(await ingestPhoto(file, index));
  }
  report(1, 'decode');
  return { frames };
}
