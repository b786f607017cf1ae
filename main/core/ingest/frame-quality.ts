// Sharpness and similarity of frames, measured on small grey images so the
// numbers do not depend on the video's resolution.
//   blurScore: variance of the 4-neighbour Laplacian of the grey image with its
//              long side scaled to ANALYSIS_LONG_SIDE (higher is sharper);
//   signature: a SIGNATURE_SIZE² grey thumbnail; two frames whose signatures
//              differ by less than NEAR_DUPLICATE_MEAN_DIFF grey levels on
//              average show the same thing (the camera did not move).

import sharp, { type Sharp } from 'sharp';

export const ANALYSIS_LONG_SIDE = 512;
export const SIGNATURE_SIZE = 32;
export const NEAR_DUPLICATE_MEAN_DIFF = 1.5;

export interface FrameQuality {
  blurScore: number;
  signature: Uint8Array;
}

/** Variance of the discrete Laplacian (4-neighbour kernel) over the interior pixels of a grey image. */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSquares = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const laplacian = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * grey[i];
      sum += laplacian;
      sumSquares += laplacian * laplacian;
    }
  }
  const n = (width - 2) * (height - 2);
  const mean = sum / n;
  return sumSquares / n - mean * mean;
}

/** Mean absolute difference of two signatures, in grey levels (0..255). */
export function signatureDifference(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
  return total / a.length;
}

/** Mean grey level of each cell of a SIGNATURE_SIZE x SIGNATURE_SIZE grid over the image. */
export function greySignature(grey: Uint8Array, width: number, height: number): Uint8Array {
  const sums = new Float64Array(SIGNATURE_SIZE * SIGNATURE_SIZE);
  const counts = new Uint32Array(SIGNATURE_SIZE * SIGNATURE_SIZE);
  for (let y = 0; y < height; y++) {
    const cellRow = Math.floor((y * SIGNATURE_SIZE) / height) * SIGNATURE_SIZE;
    for (let x = 0; x < width; x++) {
      const cell = cellRow + Math.floor((x * SIGNATURE_SIZE) / width);
      sums[cell] += grey[y * width + x];
      counts[cell]++;
    }
  }
  return Uint8Array.from(sums, (sum, i) => Math.round(sum / Math.max(1, counts[i])));
}

/** Grey levels (ITU-R BT.601 luma, integer weights) of interleaved RGB pixels. */
export function rgbToGrey(rgb: Uint8Array, pixelCount: number, channels: number): Uint8Array {
  const grey = new Uint8Array(pixelCount);
  for (let i = 0, p = 0; i < pixelCount; i++, p += channels)
    grey[i] = (77 * rgb[p] + 150 * rgb[p + 1] + 29 * rgb[p + 2] + 128) >> 8;
  return grey;
}

/**
 * Quality figures and a JPEG thumbnail from ONE downscale of the frame (to
 * ANALYSIS_LONG_SIDE): the full-resolution pixels are resized once, not once
 * for the thumbnail and again for the analysis.
 */
export async function measureFrameQualityAndThumbnail(
  image: Sharp,
  thumbnailLongSide: number,
): Promise<{ quality: FrameQuality; thumbnail: Buffer }> {
  const { data, info } = await image
    .clone()
    .resize(ANALYSIS_LONG_SIDE, ANALYSIS_LONG_SIDE, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const grey = rgbToGrey(rgb, info.width * info.height, info.channels);
  const thumbnail = await sharp(data, {
    raw: { width: info.width, height: info.height, channels: info.channels },
  })
    .resize(thumbnailLongSide, thumbnailLongSide, { fit: 'inside' })
    .jpeg({ quality: 80 })
    .toBuffer();
  return {
    quality: {
      blurScore: laplacianVariance(grey, info.width, info.height),
      signature: greySignature(grey, info.width, info.height),
    },
    thumbnail,
  };
}

/**
 * The signature of an encoded frame (a stored JPEG or PNG), measured as at
 * import (scaled to ANALYSIS_LONG_SIDE, then grey): re-running the selection
 * on stored frames judges near-duplicates as the import did.
 */
export async function signatureOfEncodedFrame(encoded: Buffer): Promise<Uint8Array> {
  const { data, info } = await sharp(encoded)
    .rotate() // EXIF orientation, as photo import applies it
    .resize(ANALYSIS_LONG_SIDE, ANALYSIS_LONG_SIDE, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const grey = rgbToGrey(rgb, info.width * info.height, info.channels);
  return greySignature(grey, info.width, info.height);
}
