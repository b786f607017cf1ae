// The viewer's camera follows the scene when its levelling changes: the point
// under the orbit centre before is the point under it after, at the same
// distance, and undoing the levelling brings the camera back where it was.

import { Euler, Matrix4, Quaternion, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { THREE_FROM_OPENCV_EULER } from '../../../../renderer/src/scene/opencv-axes';
import { alignmentMatrix } from '../../../../renderer/src/scene/tools/levelled-world';
import { levellingMove } from '../../../../renderer/src/scene/ViewCamera';

const flip = new Matrix4().makeRotationFromEuler(new Euler(...THREE_FROM_OPENCV_EULER));

/** A rigid levelledFromScene, row-major, as the core stores it. */
function rigid(axis: [number, number, number], angle: number, t: [number, number, number]): number[] {
  const m = new Matrix4().compose(
    new Vector3(...t),
    new Quaternion().setFromAxisAngle(new Vector3(...axis).normalize(), angle),
    new Vector3(1, 1, 1),
  );
  return m.clone().transpose().toArray(); // column-major elements, transposed: row-major
}

/** Where the viewer draws stored point p under a levelling (three.js world). */
const shown = (p: Vector3, alignment: number[] | null) =>
  p.clone().applyMatrix4(alignmentMatrix(alignment)).applyMatrix4(flip);

describe('levellingMove', () => {
  const a = rigid([0.3, -1, -0.9], 0.7, [0.1, 0.5, -2]);
  const b = rigid([1, 0.2, 0], -0.4, [1, -1, 0.3]);
  const stored = [new Vector3(0, 0.4, 3), new Vector3(-1, 2, 5), new Vector3(0.2, -0.3, 1)];

  for (const [name, before, after] of [
    ['levelling a scene', null, a],
    ['a new levelling', a, b],
    ['undoing a levelling', a, null],
  ] as const) {
    it(`keeps every stored point where the camera sees it: ${name}`, () => {
      const move = levellingMove(before, after);
      for (const p of stored) {
        const carried = shown(p, before).applyMatrix4(move);
        const expected = shown(p, after);
        expect(carried.distanceTo(expected)).toBeLessThan(1e-9);
      }
    });
  }

  it('is rigid (distances to the orbit centre stay) and undone by the opposite change', () => {
    const camera = new Vector3(3, 2, 8);
    const target = new Vector3(0, -0.4, -3);
    const there = levellingMove(null, a);
    const movedCamera = camera.clone().applyMatrix4(there);
    const movedTarget = target.clone().applyMatrix4(there);
    expect(movedCamera.distanceTo(movedTarget)).toBeCloseTo(camera.distanceTo(target), 12);
    const back = levellingMove(a, null);
    expect(movedCamera.applyMatrix4(back).distanceTo(camera)).toBeLessThan(1e-9);
    // The same levelling again moves nothing.
    const still = levellingMove(b, b).elements;
    new Matrix4().elements.forEach((v, i) => expect(still[i]).toBeCloseTo(v, 12));
  });
});
