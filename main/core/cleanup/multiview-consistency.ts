// Multi-view consistency without a confidence head: every pixel's world point
// is projected into each other frame (its pose and intrinsics) and compared
// with the depth that frame predicted at that pixel:
//   |d_j − z| <= tol·d_j        agreement: frame j sees the same surface;
//   z < (1 − tol)·d_j            violation: the point floats in front of the
//                                surface frame j sees through it (free space);
//   z > (1 + tol)·d_j            occluded in j: no evidence either way.
// The score is violations / (agreements + violations), higher is worse; a
// point no other frame can check scores NaN ("no evidence", kept by filters).
// Depth is the camera-space z of the map (OpenCV axes, z forward).

import type { CleanupTaskOptions } from './cleanup-task';
import { runSliced } from './cleanup-task';
import { worldPointsFromMaps, type FramePointMaps } from './frame-maps';

export interface ConsistencyOptions extends CleanupTaskOptions {
  /** Relative depth tolerance (default 0.05). */
  tolerance?: number;
}

function invertRigid(m: number[]): number[] {
  // [R t; 0 1]⁻¹ = [Rᵀ −Rᵀt; 0 1]. Poses are rigid (rotation + translation).
  const r = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]];
  const t = [m[3], m[7], m[11]];
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 4 + j] = r[j * 3 + i];
    out[i * 4 + 3] = -(r[0 * 3 + i] * t[0] + r[1 * 3 + i] * t[1] + r[2 * 3 + i] * t[2]);
  }
  out[15] = 1;
  return out;
}

/** Per-pixel inconsistency (N x H x W), NaN where no other frame can check it. */
export async function multiViewInconsistency(
  maps: FramePointMaps,
  opts: ConsistencyOptions = {},
): Promise<Float32Array> {
  const tol = opts.tolerance ?? 0.05;
  const { frameCount, width, height, localPointMaps } = maps;
  const pixels = width * height;
  const world = worldPointsFromMaps(maps);
  const cameraFromWorld = Array.from({ length: frameCount }, (_, f) =>
    invertRigid(Array.from({ length: 16 }, (_, e) => maps.worldFromCamera[16 * f + e])),
  );
  const scores = new Float32Array(frameCount * pixels);
  await runSliced(
    frameCount * pixels,
    (from, to) => {
      for (let p = from; p < to; p++) {
        const x = world[3 * p],
          y = world[3 * p + 1],
          z = world[3 * p + 2];
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
          scores[p] = NaN;
          continue;
        }
        const own = Math.floor(p / pixels);
        let agree = 0,
          violate = 0;
        for (let j = 0; j < frameCount; j++) {
          const k = maps.intrinsics[j];
          if (j === own || !k) continue;
          const m = cameraFromWorld[j];
          const cz = m[8] * x + m[9] * y + m[10] * z + m[11];
          if (!(cz > 1e-9)) continue;
          const cx = m[0] * x + m[1] * y + m[2] * z + m[3];
          const cy = m[4] * x + m[5] * y + m[6] * z + m[7];
          // Intrinsics are fitted with pixel centres at +0.5 (geometry/intrinsics.ts).
          const col = Math.floor(((k.fx * cx) / cz + k.cx) * (width / k.width));
          const row = Math.floor(((k.fy * cy) / cz + k.cy) * (height / k.height));
          if (col < 0 || row < 0 || col >= width || row >= height) continue;
          const d = localPointMaps[3 * (j * pixels + row * width + col) + 2];
          if (!(d > 0) || !Number.isFinite(d)) continue;
          if (Math.abs(d - cz) <= tol * d) agree++;
          else if (cz < (1 - tol) * d) violate++;
        }
        scores[p] = agree + violate > 0 ? violate / (agree + violate) : NaN;
      }
    },
    opts,
    'consistency',
    'Multi-view consistency',
  );
  return scores;
}
