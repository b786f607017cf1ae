// Sharpness and similarity of frames, measured on small grey images so the
// numbers do not depend on the video's resolution.
//   blurScore: variance of the 4-neighbour Laplacian of the grey image with its
//              long side scaled to ANALYSIS_LONG_SIDE (higher is sharper);
//   signature: a SIGNATURE_SIZE² grey thumbnail; two frames whose signatures
//              differ by less than NEAR_DUPLICATE_MEAN_DIFF grey levels on
//              average show the same thing (the camera did not move).

import type { Sharp } from 'sharp';

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

/** Score an image given as a sharp pipeline input (raw pixels or an encoded file). */
export async function measureFrameQuality(image: Sharp): Promise<FrameQuality> {
  const grey = await image
    .clone()
    .resize(ANALYSIS_LONG_SIDE, ANALYSIS_LONG_SIDE, { fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const signature = await image
    .clone()
    .resize(SIGNATURE_SIZE, SIGNATURE_SIZE, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
  return {
    blurScore: laplacianVariance(grey.data, grey.info.width, grey.info.height),
    signature: new Uint8Array(signature.buffer, signature.byteOffset, signature.length),
  };
}
