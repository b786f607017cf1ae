// CPU picking and the lasso matrix against three.js's own projection, with the
// cloud inside the OpenCV -> three.js group exactly as the viewer draws it; and
// the lasso matrix fed to the core's selectInLasso selects what the screen shows.

import { Group, PerspectiveCamera, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { rowMajorFromColumnMajor, selectInLasso } from '../../../../main/common/selection';
import { BudgetedPointCloud } from '../../../../renderer/src/scene/points/budgeted-point-cloud';
import { THREE_FROM_OPENCV_EULER } from '../../../../renderer/src/scene/opencv-axes';
import {
  clipFromObject,
  lassoViewProjection,
  pickPoint,
  rowMajor,
} from '../../../../renderer/src/scene/points/point-picking';

const VIEWPORT = { width: 800, height: 600 };

/** Points in a slab in front of an OpenCV camera at the origin (z forward, 2..6 m away). */
function sceneInGroup(count: number, seed = 5) {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    positions[3 * i] = (random() - 0.5) * 4;
    positions[3 * i + 1] = (random() - 0.5) * 3;
    positions[3 * i + 2] = 2 + random() * 4;
  }
  const cloud = new BudgetedPointCloud({ positions, colors: null, count });
  const group = new Group();
  group.rotation.set(...THREE_FROM_OPENCV_EULER);
  group.add(cloud);
  const camera = new PerspectiveCamera(50, VIEWPORT.width / VIEWPORT.height, 0.1, 100);
  // three.js looks down −z, which is +z (forward) in OpenCV: the cloud is in front.
  camera.position.set(0.3, 0.2, 1);
  camera.lookAt(0, 0, -4);
  camera.updateMatrixWorld();
  group.updateMatrixWorld(true);
  return { cloud, camera, positions };
}

function screenOf(positions: Float32Array, i: number, cloud: BudgetedPointCloud, camera: PerspectiveCamera) {
  const p = new Vector3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2])
    .applyMatrix4(cloud.matrixWorld)
    .project(camera);
  return p; // NDC x, y and depth z
}

describe('pickPoint', () => {
  it('finds the nearest shown point within the radius, in stored order and coordinates', () => {
    const { cloud, camera, positions } = sceneInGroup(20_000);
    for (const target of [17, 4_321, 19_999]) {
      const ndc = screenOf(positions, target, cloud, camera);
      const pick = pickPoint(cloud, camera, ndc, 4, VIEWPORT);
      expect(pick).not.toBeNull();
      // Brute force with three.js: the nearest-to-camera point within 4 px.
      let best = -1;
      let bestDepth = Infinity;
      for (let i = 0; i < 20_000; i++) {
        const p = screenOf(positions, i, cloud, camera);
        const dx = ((p.x - ndc.x) * VIEWPORT.width) / 2;
        const dy = ((p.y - ndc.y) * VIEWPORT.height) / 2;
        if (dx * dx + dy * dy <= 16 && p.z < bestDepth) [best, bestDepth] = [i, p.z];
      }
      expect(pick!.index).toBe(best);
      expect(pick!.position).toEqual([positions[3 * best], positions[3 * best + 1], positions[3 * best + 2]]);
    }
    cloud.dispose();
  });

  it('skips hidden points and returns null where nothing is drawn', () => {
    const { cloud, camera, positions } = sceneInGroup(5_000);
    const ndc = screenOf(positions, 100, cloud, camera);
    const first = pickPoint(cloud, camera, ndc, 1, VIEWPORT)!;
    const keep = new Uint8Array(5_000).fill(1);
    keep[first.index] = 0;
    cloud.setMasks(keep, null);
    const second = pickPoint(cloud, camera, ndc, 1, VIEWPORT);
    expect(second?.index).not.toBe(first.index);
    expect(pickPoint(cloud, camera, { x: 0.999, y: 0.999 }, 0.5, VIEWPORT)).toBeNull();
    cloud.dispose();
  });
});

describe('lassoViewProjection', () => {
  it("is the core's row-major convention: rowMajorFromColumnMajor of projection · view · model", () => {
    const { cloud, camera } = sceneInGroup(10);
    const m = clipFromObject(cloud, camera).elements;
    expect(lassoViewProjection(cloud, camera)).toEqual(rowMajorFromColumnMajor(m));
    expect(rowMajor(m)).toEqual(rowMajorFromColumnMajor(m));
    cloud.dispose();
  });

  it('makes selectInLasso select exactly the points three.js projects inside the polygon', () => {
    const { cloud, camera, positions } = sceneInGroup(20_000);
    const polygon: Array<[number, number]> = [
      [-0.4, -0.3],
      [0.5, -0.2],
      [0.1, 0.6],
    ];
    const selected = selectInLasso(positions, 20_000, {
      polygon,
      viewProjection: lassoViewProjection(cloud, camera),
    });
    const inside = (x: number, y: number) => {
      let odd = false;
      for (let a = 0, b = polygon.length - 1; a < polygon.length; b = a++) {
        const [xa, ya] = polygon[a];
        const [xb, yb] = polygon[b];
        if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) odd = !odd;
      }
      return odd;
    };
    let count = 0;
    for (let i = 0; i < 20_000; i++) {
      const p = screenOf(positions, i, cloud, camera);
      expect(selected[i], `point ${i}`).toBe(inside(p.x, p.y) ? 1 : 0);
      count += selected[i];
    }
    expect(count).toBeGreaterThan(1_000); // the polygon covers a real part of the view
    expect(count).toBeLessThan(19_000);
    cloud.dispose();
  });
});
