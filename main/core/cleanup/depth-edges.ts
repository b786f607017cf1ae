// Depth-edge score. At an object's silhouette the model's point map
// interpolates between foreground and background, leaving "flying pixels"
// strung between them. Such a pixel's depth jumps relative to a neighbour; the
// score is the largest relative jump to its 4-neighbours,
//   max_q |z_p − z_q| / min(z_p, z_q),
// scale-free, so one threshold (≈0.05) works in model units and in metres.
// Pixels with no usable depth score +Infinity; a pixel whose neighbours are all
// unusable scores 0.

import type { FramePointMaps } from './frame-maps';

/** Per-pixel depth-edge score for every frame (N x H x W). Higher is worse. */
export function depthEdgeScores(
  maps: Pick<FramePointMaps, 'frameCount' | 'width' | 'height' | 'localPointMaps'>,
): Float32Array {
  const { frameCount, width, height, localPointMaps } = maps;
  const pixels = width * height;
  const scores = new Float32Array(frameCount * pixels);
  const depth = new Float32Array(pixels);
  for (let f = 0; f < frameCount; f++) {
    const base = f * pixels;
    for (let p = 0; p < pixels; p++) {
      const z = localPointMaps[3 * (base + p) + 2];
      depth[p] = z > 0 && Number.isFinite(z) ? z : NaN;
    }
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const p = row * width + col;
        const z = depth[p];
        if (Number.isNaN(z)) {
          scores[base + p] = Infinity;
          continue;
        }
        let worst = 0;
        if (col > 0) worst = jump(z, depth[p - 1], worst);
        if (col + 1 < width) worst = jump(z, depth[p + 1], worst);
        if (row > 0) worst = jump(z, depth[p - width], worst);
        if (row + 1 < height) worst = jump(z, depth[p + width], worst);
        scores[base + p] = worst;
      }
    }
  }
  return scores;
}

function jump(z: number, neighbour: number, worst: number): number {
  if (Number.isNaN(neighbour)) return worst;
  const relative = Math.abs(z - neighbour) / Math.min(z, neighbour);
  return relative > worst ? relative : worst;
}
