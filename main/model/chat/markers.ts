// Marks drawn onto a chat image the way the official data pipeline drew them for
// training (G2VLM data/draw_marker.py): points are FILLED circles of radius 20 px
// (PIL ImageDraw.ellipse on the box [x−20, y−20, x+20, y+20]) in PIL's named
// colours, boxes are 20 px outlines around the box grown by 7/8 of the stroke.
// The model learned what "the red point" means from exactly these marks, so the
// studio draws them before the image enters the model. Coordinates in the
// official annotations are in a 0..1000 space per axis (`fromOfficialPoint`);
// the studio passes image pixels. The rim of a circle may differ from PIL's
// rasteriser by one pixel (PIL's ellipse algorithm is not reproduced bit-exactly).
import sharp from 'sharp';
import { decodeRgbImage } from '../preprocess/qwen-image';

/** PIL ImageColor values of the colour names the official prompts use. */
export const MARKER_COLORS = {
  red: [255, 0, 0],
  blue: [0, 0, 255],
  green: [0, 128, 0],
  yellow: [255, 255, 0],
  // Not used by the official data, offered by the studio (PIL's values for the names).
  purple: [128, 0, 128],
  orange: [255, 165, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

export type MarkerColor = keyof typeof MARKER_COLORS;

export type Marker =
  | { kind: 'point'; x: number; y: number; color: MarkerColor; radius?: number }
  | { kind: 'box'; x0: number; y0: number; x1: number; y1: number; color: MarkerColor; stroke?: number };

export const OFFICIAL_POINT_RADIUS = 20;
export const OFFICIAL_BOX_STROKE = 20;

/** Official annotation point (0..1000 per axis) → image pixel, truncated like Python's int(). */
export function fromOfficialPoint(
  x1000: number,
  y1000: number,
  width: number,
  height: number,
): { x: number; y: number } {
  return { x: Math.trunc((x1000 / 1000) * width), y: Math.trunc((y1000 / 1000) * height) };
}

function paint(rgb: Uint8Array, width: number, x: number, y: number, color: readonly number[]): void {
  const o = (y * width + x) * 3;
  rgb[o] = color[0];
  rgb[o + 1] = color[1];
  rgb[o + 2] = color[2];
}

/** A filled ellipse inscribed in the pixel box [x0, x1] × [y0, y1] (inclusive, like PIL). */
function fillEllipse(
  rgb: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: readonly number[],
): void {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  // Half-axes reach the outer edge of the border pixels' centres plus half a pixel.
  const a = (x1 - x0) / 2 + 0.5;
  const b = (y1 - y0) / 2 + 0.5;
  for (let y = Math.max(0, Math.floor(y0)); y <= Math.min(height - 1, Math.ceil(y1)); y++) {
    const dy = (y - cy) / b;
    for (let x = Math.max(0, Math.floor(x0)); x <= Math.min(width - 1, Math.ceil(x1)); x++) {
      const dx = (x - cx) / a;
      if (dx * dx + dy * dy <= 1) paint(rgb, width, x, y, color);
    }
  }
}

/** PIL rectangle outline of `stroke` px drawn inside [x0, x1] × [y0, y1]. */
function strokeRectangle(
  rgb: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  stroke: number,
  color: readonly number[],
): void {
  for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++) {
    const edgeRow = y < y0 + stroke || y > y1 - stroke;
    for (let x = Math.max(0, x0); x <= Math.min(width - 1, x1); x++) {
      if (edgeRow || x < x0 + stroke || x > x1 - stroke) paint(rgb, width, x, y, color);
    }
  }
}

/** Draws the markers onto a copy of an HWC RGB image; the input is left untouched. */
export function drawMarkers(
  rgb: Uint8Array,
  width: number,
  height: number,
  markers: readonly Marker[],
): Uint8Array {
  if (rgb.length !== width * height * 3)
    throw new RangeError(`drawMarkers: expected ${width * height * 3} bytes`);
  const out = rgb.slice();
  for (const marker of markers) {
    const color = MARKER_COLORS[marker.color];
    if (!color) throw new RangeError(`drawMarkers: unknown colour ${String(marker.color)}`);
    if (marker.kind === 'point') {
      const r = marker.radius ?? OFFICIAL_POINT_RADIUS;
      const x = Math.trunc(marker.x);
      const y = Math.trunc(marker.y);
      fillEllipse(out, width, height, x - r, y - r, x + r, y + r, color);
    } else {
      const stroke = marker.stroke ?? OFFICIAL_BOX_STROKE;
      const grow = (stroke * 7) / 8;
      strokeRectangle(
        out,
        width,
        height,
        Math.trunc(marker.x0 - grow),
        Math.trunc(marker.y0 - grow),
        Math.trunc(marker.x1 + grow),
        Math.trunc(marker.y1 + grow),
        stroke,
        color,
      );
    }
  }
  return out;
}

/** How the question refers to a marker ("the red point"), as in the official prompts. */
export function markerPhrase(marker: Marker): string {
  return `the ${marker.color} ${marker.kind === 'point' ? 'point' : 'box'}`;
}

/**
 * A frame with markers drawn on it, re-encoded as PNG (lossless, so the model
 * sees exactly the drawn colours): what the studio sends as a chat frame.
 */
export async function markFrame(
  bytes: Uint8Array,
  markers: readonly Marker[],
  name = 'frame',
): Promise<Uint8Array> {
  const image = await decodeRgbImage(bytes, name);
  const marked = drawMarkers(image.rgb, image.width, image.height, markers);
  const png = await sharp(marked, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
