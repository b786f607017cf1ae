// Quality scores from the reconstruction's per-frame point maps: two cameras
// looking at a wall, one map carrying a floater (a patch pulled halfway to the
// camera, as the model does at silhouettes). Depth edges flag the patch border,
// multi-view consistency flags the whole patch, and both map back to the
// scene cloud's points.

import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import { applyEdits } from '../../../../main/core/cleanup/apply-edits';
import { depthEdgeScores } from '../../../../main/core/cleanup/depth-edges';
import {
  finitePixelIndices,
  worldPointsFromMaps,
  type FramePointMaps,
} from '../../../../main/core/cleanup/frame-maps';
import { multiViewInconsistency } from '../../../../main/core/cleanup/multiview-consistency';
import { editBaseOf, sceneQualityFromMaps } from '../../../../main/core/cleanup/scene-quality';
import { estimateIntrinsics } from '../../../../main/core/geometry/intrinsics';

const W = 64,
  H = 48,
  F = 50,
  WALL_Z = 5;
const PATCH = { col0: 28, col1: 36, row0: 20, row1: 28 };

function rotationY(angle: number): number[] {
  const c = Math.cos(angle),
    s = Math.sin(angle);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}

/** Local point maps of a pinhole camera (rotation R, centre C) looking at the wall z = WALL_Z. */
function renderWall(R: number[], C: number[], floater: boolean): Float32Array {
  const map = new Float32Array(W * H * 3);
  for (let row = 0; row < H; row++)
    for (let col = 0; col < W; col++) {
      const d = [(col + 0.5 - W / 2) / F, (row + 0.5 - H / 2) / F, 1];
      const worldZ = R[6] * d[0] + R[7] * d[1] + R[8] * d[2];
      let t = (WALL_Z - C[2]) / worldZ;
      if (floater && col >= PATCH.col0 && col < PATCH.col1 && row >= PATCH.row0 && row < PATCH.row1) t *= 0.5;
      map.set([t * d[0], t * d[1], t * d[2]], 3 * (row * W + col));
    }
  return map;
}

function pose(R: number[], C: number[]): number[] {
  return [R[0], R[1], R[2], C[0], R[3], R[4], R[5], C[1], R[6], R[7], R[8], C[2], 0, 0, 0, 1];
}

function twoViewMaps(): FramePointMaps {
  const R0 = rotationY(0),
    C0 = [0, 0, 0];
  const R1 = rotationY(-0.15),
    C1 = [0.8, 0.1, 0];
  const localPointMaps = new Float32Array(2 * W * H * 3);
  localPointMaps.set(renderWall(R0, C0, true), 0);
  localPointMaps.set(renderWall(R1, C1, false), W * H * 3);
  const intrinsics = [0, 1].map((n) => estimateIntrinsics(localPointMaps, W, H, n * W * H * 3));
  return {
    frameCount: 2,
    width: W,
    height: H,
    localPointMaps,
    worldFromCamera: [...pose(R0, C0), ...pose(R1, C1)],
    intrinsics,
  };
}

const inPatch = (p: number): boolean => {
  const col = p % W,
    row = Math.floor(p / W);
  return col >= PATCH.col0 && col < PATCH.col1 && row >= PATCH.row0 && row < PATCH.row1;
};

describe('map-based quality scores', () => {
  it('fitted intrinsics of the synthetic maps are the rendering camera', () => {
    const maps = twoViewMaps();
    for (const k of maps.intrinsics) {
      expect(k!.fx).toBeCloseTo(F, 3);
      expect(k!.fy).toBeCloseTo(F, 3);
    }
  });

  it('depth edges: the floater border jumps by 100 %, the wall is smooth', () => {
    const scores = depthEdgeScores(twoViewMaps());
    const border = (PATCH.row0 + 2) * W + PATCH.col0; // left border pixel inside the patch
    expect(scores[border]).toBeCloseTo(1, 3);
    expect(scores[border - 1]).toBeCloseTo(1, 3);
    expect(scores[(PATCH.row0 + 2) * W + PATCH.col0 + 2]).toBeLessThan(0.01); // patch interior
    let worstWall = 0;
    for (let p = 0; p < 2 * W * H; p++) {
      const local = p % (W * H);
      const nearPatch =
        p < W * H &&
        local % W >= PATCH.col0 - 1 &&
        local % W <= PATCH.col1 &&
        Math.floor(local / W) >= PATCH.row0 - 1 &&
        Math.floor(local / W) <= PATCH.row1;
      if (!nearPatch) worstWall = Math.max(worstWall, scores[p]);
    }
    expect(worstWall).toBeLessThan(0.02);
  });

  it('multi-view consistency: the floater violates the other view, the wall agrees', async () => {
    const scores = await multiViewInconsistency(twoViewMaps());
    let patchChecked = 0;
    let wallAgree = 0,
      wallChecked = 0;
    for (let p = 0; p < W * H; p++) {
      if (Number.isNaN(scores[p])) continue;
      if (inPatch(p)) {
        expect(scores[p]).toBe(1);
        patchChecked++;
      } else {
        wallChecked++;
        if (scores[p] === 0) wallAgree++;
      }
    }
    expect(patchChecked).toBe((PATCH.col1 - PATCH.col0) * (PATCH.row1 - PATCH.row0));
    expect(wallChecked).toBeGreaterThan(W * H * 0.5);
    expect(wallAgree / wallChecked).toBeGreaterThan(0.97);
  });

  it('scores map onto the scene cloud; the consistency filter removes exactly the floater', async () => {
    const maps = twoViewMaps();
    maps.localPointMaps[3 * (W * H)] = NaN; // frame 1, pixel 0: no prediction
    const world = worldPointsFromMaps(maps);
    const pixelIndex = finitePixelIndices(world);
    const positions = new Float32Array(pixelIndex.length * 3);
    pixelIndex.forEach((p, i) => positions.set(world.subarray(3 * p, 3 * p + 3), 3 * i));
    const cloud = { positions, colors: null, count: pixelIndex.length };
    expect(cloud.count).toBe(2 * W * H - 1);

    const quality = await sceneQualityFromMaps(maps, [3, 7], cloud.count);
    expect(quality.pointFrames.filter((f) => f === 3).length).toBe(W * H);
    expect(quality.pointFrames.filter((f) => f === 7).length).toBe(W * H - 1);

    const result = await applyEdits(editBaseOf(cloud, quality), [
      { kind: 'filter', params: { score: 'inconsistency', cut: { mode: 'threshold', value: 0.5 } } },
    ]);
    const patchPixels = (PATCH.col1 - PATCH.col0) * (PATCH.row1 - PATCH.row0);
    expect(result.keptCount).toBe(cloud.count - patchPixels);
    for (let i = 0; i < W * H; i++) expect(result.keep[i]).toBe(inPatch(i) ? 0 : 1);

    const hidden = await applyEdits(editBaseOf(cloud, quality), [
      { kind: 'hide-frames', params: { frameIndices: [7] } },
    ]);
    expect(hidden.keptCount).toBe(W * H);

    await expect(sceneQualityFromMaps(maps, [3, 7], cloud.count + 5)).rejects.toBeInstanceOf(StudioError);
  });
});
