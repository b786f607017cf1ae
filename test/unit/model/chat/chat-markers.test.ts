// Markers are drawn like the official training data (data/draw_marker.py):
// filled circles of radius 20 px and 20 px box outlines in PIL's named colours.

import { describe, expect, it } from 'vitest';
import {
  MARKER_COLORS,
  drawMarkers,
  fromOfficialPoint,
  markFrame,
  markerPhrase,
} from '../../../../main/model/chat/markers';
import { decodeRgbImage } from '../../../../main/model/preprocess/qwen-image';
import { readFileSync } from 'node:fs';
import { SHARED_DIR } from '../../../support/shared-dir';

const W = 120;
const H = 100;
const at = (rgb: Uint8Array, x: number, y: number): number[] =>
  Array.from(rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));

describe('drawMarkers', () => {
  const grey = new Uint8Array(W * H * 3).fill(128);

  it('draws a filled 41-pixel-wide disc in PIL red around a point and leaves the input untouched', () => {
    const out = drawMarkers(grey, W, H, [{ kind: 'point', x: 60, y: 50, color: 'red' }]);
    expect(at(out, 60, 50)).toEqual([255, 0, 0]);
    expect(at(out, 40, 50)).toEqual([255, 0, 0]); // left edge of the bounding box [x−20, x+20]
    expect(at(out, 80, 50)).toEqual([255, 0, 0]);
    expect(at(out, 39, 50)).toEqual([128, 128, 128]);
    expect(at(out, 44, 34)).toEqual([128, 128, 128]); // outside the disc, inside its box corner
    expect(at(grey, 60, 50)).toEqual([128, 128, 128]);
    let painted = 0;
    for (let i = 0; i < W * H; i++) if (out[i * 3] === 255) painted++;
    expect(painted).toBeGreaterThan(Math.PI * 20 * 20);
    expect(painted).toBeLessThan(Math.PI * 21.5 * 21.5);
  });

  it('uses PIL colour names (green is 0,128,0) and clips markers at the image border', () => {
    const out = drawMarkers(grey, W, H, [
      { kind: 'point', x: 2, y: 2, color: 'green' },
      { kind: 'point', x: 118, y: 98, color: 'blue' },
    ]);
    expect(at(out, 0, 0)).toEqual([...MARKER_COLORS.green]);
    expect([...MARKER_COLORS.green]).toEqual([0, 128, 0]);
    expect(at(out, 119, 99)).toEqual([0, 0, 255]);
  });

  it('draws a 20 px box outline grown by 17.5 px around the box, hollow inside', () => {
    const out = drawMarkers(grey, W, H, [{ kind: 'box', x0: 40, y0: 40, x1: 80, y1: 60, color: 'blue' }]);
    expect(at(out, 22, 50)).toEqual([0, 0, 255]); // int(40 − 17.5) = 22
    expect(at(out, 21, 50)).toEqual([128, 128, 128]);
    expect(at(out, 41, 41)).toEqual([0, 0, 255]); // still inside the 20 px stroke (22..41)
    expect(at(out, 60, 50)).toEqual([128, 128, 128]); // hollow centre
  });

  it('converts official 0..1000 coordinates and names markers like the official prompts', () => {
    expect(fromOfficialPoint(500, 250, 1296, 968)).toEqual({ x: 648, y: 242 });
    expect(markerPhrase({ kind: 'point', x: 0, y: 0, color: 'red' })).toBe('the red point');
    expect(() => drawMarkers(new Uint8Array(3), W, H, [])).toThrow(RangeError);
  });

  it('marks an encoded photo losslessly (PNG) so the model sees the exact marker colour', async () => {
    const jpeg = readFileSync(`${SHARED_DIR}/golden/g2vlm-tiny-a/inputs/images/25_0.jpg`);
    const marked = await decodeRgbImage(
      await markFrame(jpeg, [{ kind: 'point', x: 300, y: 200, color: 'blue' }]),
    );
    expect([marked.width, marked.height]).toEqual([1296, 968]);
    const o = (200 * 1296 + 300) * 3;
    expect(Array.from(marked.rgb.subarray(o, o + 3))).toEqual([0, 0, 255]);
  });
});
