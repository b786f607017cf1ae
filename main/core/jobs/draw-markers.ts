// Markers drawn onto frames the way G2VLM's spatial training data marks
// objects: a filled coloured dot with a white ring, so "the red point" in a
// question refers to something the model can see.

import sharp from 'sharp';
import type { Marker, MarkerColor } from '../../common/domain';

const MARKER_RGB: Record<MarkerColor, string> = {
  red: '#ff0000',
  blue: '#0000ff',
  green: '#00c000',
  yellow: '#ffff00',
  purple: '#a000ff',
  orange: '#ff8000',
};

/** The image with the markers that belong to it drawn on (JPEG), or the original bytes when none do. */
export async function drawMarkers(
  image: Buffer,
  size: { width: number; height: number },
  markers: Marker[],
): Promise<Buffer> {
  if (markers.length === 0) return image;
  const radius = Math.max(5, Math.round(Math.max(size.width, size.height) * 0.012));
  const dots = markers
    .map(
      (m) =>
        `<circle cx="${m.x.toFixed(1)}" cy="${m.y.toFixed(1)}" r="${radius}" fill="${MARKER_RGB[m.color]}" ` +
        `stroke="#ffffff" stroke-width="${Math.max(1, Math.round(radius / 3))}"/>`,
    )
    .join('');
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">${dots}</svg>`,
  );
  // rotate() applies EXIF orientation so the dots land where the user placed them on the displayed frame.
  return sharp(image)
    .rotate()
    .composite([{ input: svg, top: 0, left: 0 }])
    .jpeg({ quality: 92 })
    .toBuffer();
}
