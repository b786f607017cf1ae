// The DINO ("geometry") input of the chat images, load_and_resize14(images, 518)
// (model doc §2.1): the target size comes from the first image (width 518,
// height = round(H0·518/W0/14)·14 with Python's half-to-even round), every image
// is PIL-LANCZOS resized to it, ToTensor (u8/255 in float32) and ImageNet
// normalisation in float32. The bilinear interpolate of the official code is an
// identity at that size and is skipped.
import { StudioError } from '../../common/errors';
import { resizeRgbLikePil } from '../preprocess/pil-resample';
import { roundHalfEven, type RgbImage } from '../preprocess/qwen-image';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
export const DINO_IMAGE_WIDTH = 518;
const PATCH = 14;

export interface DinoInput {
  /** (N, 3, H, W) normalised float32. */
  pixelValues: Float32Array;
  frames: number;
  width: number;
  height: number;
  /** Patch grid (h, w) = (H/14, W/14). */
  grid: [number, number];
  /** The resized uint8 images, HWC (colours for display / evidence). */
  resized: Uint8Array[];
}

export function dinoTargetSize(firstWidth: number, firstHeight: number): [number, number] {
  const height = roundHalfEven((firstHeight * DINO_IMAGE_WIDTH) / firstWidth / PATCH) * PATCH;
  return [DINO_IMAGE_WIDTH, height];
}

export function dinoInput(images: RgbImage[]): DinoInput {
  if (images.length === 0) {
    throw new StudioError('invalid-input', 'No image was given to the model.', 'Select at least one frame.');
  }
  const [width, height] = dinoTargetSize(images[0].width, images[0].height);
  if (height < PATCH) {
    throw new StudioError(
      'invalid-input',
      `The first image (${images[0].width}×${images[0].height}) is too wide for the model.`,
      'Use frames whose height is at least 1/37 of their width.',
    );
  }
  const plane = width * height;
  const pixelValues = new Float32Array(images.length * 3 * plane);
  const mean = IMAGENET_MEAN.map(Math.fround);
  const std = IMAGENET_STD.map(Math.fround);
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++)
      table[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - mean[c]) / std[c]);
  }
  const resized = images.map((image, n) => {
    const rgb = resizeRgbLikePil(image.rgb, image.width, image.height, width, height, 'lanczos');
    const base = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) pixelValues[base + c * plane + i] = table[c * 256 + rgb[i * 3 + c]];
    }
    return rgb;
  });
  return {
    pixelValues,
    frames: images.length,
    width,
    height,
    grid: [height / PATCH, width / PATCH],
    resized,
  };
}
