// The viewer tools' geometry against three.js and the core: a crop box drawn
// in the levelled world selects what the core's crop edit removes, a handle
// drag lands where the pointer's ray passes, framing holds a levelled scene.

import { Box3, Matrix4, PerspectiveCamera, Quaternion, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { applyEdits } from '../../../../main/core/cleanup/apply-edits';
import {
  cropEdit,
  initialCropBox,
  insideCropBox,
  limitedFaceMove,
  moveHandle,
  resizeAxis,
  startingCropBox,
} from '../../../../renderer/src/scene/tools/crop/crop-box';
import { gridCell } from '../../../../renderer/src/scene/GroundGrid';
import {
  levelBoxThree,
  levelledBounds,
  robustLevelledBounds,
} from '../../../../renderer/src/scene/tools/levelled-world';
import { parseQaMarkers } from '../../../../renderer/src/scene/use-stored-qa-markers';
import { placementFor } from '../../../../renderer/src/scene/view-presets';
import { formatNumber, shownDistance } from '../../../../renderer/src/scene/tools/measure/distance-label';
import { lineParameterUnderPointer } from '../../../../renderer/src/scene/tools/screen-math';
import { isDegenerate, shapeOutline } from '../../../../renderer/src/scene/tools/selection/selection-shapes';

function randomPoints(count: number, seed = 3): Float32Array {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out = new Float32Array(count * 3);
  for (let i = 0; i < out.length; i++) out[i] = (random() - 0.5) * 4;
  return out;
}

/** A rigid levelledFromStored (row-major, as SceneSummary.groundAlignment) and the same as a Matrix4. */
function someAlignment(): { rowMajor: number[]; matrix: Matrix4 } {
  const matrix = new Matrix4().compose(
    new Vector3(0.3, -1.2, 0.5),
    new Quaternion().setFromAxisAngle(new Vector3(1, 0.4, -0.2).normalize(), 0.7),
    new Vector3(1, 1, 1),
  );
  const e = matrix.elements;
  const rowMajor = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => e[c * 4 + r]));
  return { rowMajor, matrix };
}

describe('crop box', () => {
  it('selects, in the levelled world, exactly the points the core keeps for the crop edit', async () => {
    const count = 20_000;
    const positions = randomPoints(count);
    const { rowMajor, matrix } = someAlignment();
    const box = moveHandle(
      moveHandle(initialCropBox({ min: [-2, -2, -2], max: [2, 2, 2] }), { axis: 0, side: 'max' }, 0.4),
      { axis: 1, side: 'min' },
      -0.9,
    );
    const preview = insideCropBox(positions, count, box, rowMajor);
    let expected = 0;
    for (let i = 0; i < count; i++) {
      const p = new Vector3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]).applyMatrix4(
        matrix,
      );
      const inside =
        p.x >= box.min[0] &&
        p.x <= box.max[0] &&
        p.y >= box.min[1] &&
        p.y <= box.max[1] &&
        p.z >= box.min[2] &&
        p.z <= box.max[2];
      // Float rounding may differ on the faces; nothing sits on them in random data.
      expect(preview[i]).toBe(inside ? 1 : 0);
      if (inside) expected++;
    }
    expect(expected).toBeGreaterThan(count * 0.05);
    expect(expected).toBeLessThan(count * 0.6);

    const result = await applyEdits(
      { cloud: { positions, colors: new Uint8Array(count * 3), count }, pointFrames: null },
      [cropEdit(box, rowMajor)],
    );
    expect(result.keptCount).toBe(expected);
    expect(Array.from(result.keep)).toEqual(Array.from(preview));
  });

  it('never moves a face past the opposite one', () => {
    const box = { min: [0, 0, 0] as [number, number, number], max: [1, 1, 1] as [number, number, number] };
    expect(moveHandle(box, { axis: 2, side: 'min' }, 5).min[2]).toBe(1);
    expect(moveHandle(box, { axis: 0, side: 'max' }, -3).max[0]).toBe(0);
    expect(moveHandle(box, { axis: 1, side: 'max' }, 2).max).toEqual([1, 2, 1]);
  });

  it('starts from the kept points bounds in the levelled world', () => {
    const positions = new Float32Array([0, 0, 0, 1, 2, 3, 10, 10, 10]);
    const keep = new Uint8Array([1, 1, 0]);
    const bounds = levelledBounds(positions, 3, keep, new Matrix4().makeTranslation(1, 0, 0));
    expect(bounds).toEqual({ min: [1, 0, 0], max: [2, 2, 3] });
    expect(levelledBounds(positions, 3, new Uint8Array(3), new Matrix4())).toBeNull();
  });
});

describe('handle drag', () => {
  it('finds where along the handle axis the pointer ray passes', () => {
    const camera = new PerspectiveCamera(50, 4 / 3, 0.1, 100);
    camera.position.set(0.5, 1.5, 5);
    camera.lookAt(0, 0, 0);
    camera.updateMatrixWorld();
    const origin = new Vector3(-1, 0.2, 0.3);
    const direction = new Vector3(1, 0, 0);
    for (const s of [-0.5, 0.7, 2.1]) {
      const ndc = origin.clone().addScaledVector(direction, s).project(camera);
      expect(lineParameterUnderPointer(origin, direction, ndc, camera)).toBeCloseTo(s, 4);
    }
  });
});

describe('levelled framing box', () => {
  it('holds every point once levelled', () => {
    const positions = randomPoints(2_000, 9);
    const { rowMajor, matrix } = someAlignment();
    // The three.js box of the stored points (flip only), as scene-extent builds it.
    const flip = (v: Vector3) => new Vector3(v.x, -v.y, -v.z);
    const box = new Box3();
    for (let i = 0; i < 2_000; i++) box.expandByPoint(flip(new Vector3().fromArray(positions, 3 * i)));
    const levelled = levelBoxThree(box, rowMajor)!;
    for (let i = 0; i < 2_000; i++) {
      const p = flip(new Vector3().fromArray(positions, 3 * i).applyMatrix4(matrix));
      expect(levelled.containsPoint(p)).toBe(true);
    }
    expect(levelBoxThree(box, null)).toBe(box);
  });
});

describe('selection shapes and distances', () => {
  it('turns a dragged rectangle into its four corners and ignores clicks', () => {
    expect(
      shapeOutline({
        kind: 'rect',
        points: [
          [10, 20],
          [50, 80],
        ],
      }),
    ).toEqual([
      [10, 20],
      [50, 20],
      [50, 80],
      [10, 80],
    ]);
    expect(isDegenerate({ kind: 'rect', points: [[5, 5]] })).toBe(true);
    expect(
      isDegenerate({
        kind: 'lasso',
        points: [
          [0, 0],
          [1, 1],
          [2, 0],
        ],
      }),
    ).toBe(true);
  });

  it('shows metres once the scene has a scale, model units before', () => {
    expect(shownDistance([0, 0, 0], [3, 4, 0], null)).toEqual({
      value: 5,
      unit: 'units',
      text: '5.000 units',
    });
    expect(shownDistance([0, 0, 0], [3, 4, 0], 0.5).text).toBe('2.500 m');
    expect(formatNumber(12.3456)).toBe('12.35');
    expect(formatNumber(0.012345)).toBe('0.01235');
  });
});

describe('crop box start, typed sizes and limited drags', () => {
  it('starts at the 1st-99th percentile bounds (with a margin) when far outliers blow up the raw bounds', () => {
    const count = 10_000;
    const positions = randomPoints(count, 5); // within ±2
    for (let i = 0; i < 20; i++) positions.set([500 + i, -300, 900], i * 3); // sky points
    const full = levelledBounds(positions, count, null, new Matrix4())!;
    const robust = robustLevelledBounds(positions, count, null, new Matrix4())!;
    expect(full.max[0]).toBeGreaterThan(500);
    expect(robust.max[0]).toBeLessThan(2);
    expect(robust.min[0]).toBeGreaterThan(-2);
    const box = startingCropBox(full, robust);
    for (let a = 0; a < 3; a++) {
      expect(box.max[a]).toBeLessThan(2.5);
      expect(box.min[a]).toBeGreaterThan(-2.5);
      expect(box.max[a] - box.min[a]).toBeGreaterThan(3.8);
    }
    // A clean cloud keeps its whole extent (plus the 1 % pad).
    const clean = randomPoints(count, 6);
    const cleanFull = levelledBounds(clean, count, null, new Matrix4())!;
    const cleanBox = startingCropBox(cleanFull, robustLevelledBounds(clean, count, null, new Matrix4()));
    expect(cleanBox).toEqual(initialCropBox(cleanFull));
  });

  it('resizes one axis about its centre and ignores sizes that are not positive numbers', () => {
    const box = { min: [0, 0, 0] as [number, number, number], max: [2, 4, 6] as [number, number, number] };
    expect(resizeAxis(box, 1, 1)).toEqual({ min: [0, 1.5, 0], max: [2, 2.5, 6] });
    expect(resizeAxis(box, 0, Number.NaN)).toBe(box);
    expect(resizeAxis(box, 0, -1)).toBe(box);
  });

  it('moves a face no further than the drag length at the handle depth allows', () => {
    expect(limitedFaceMove(0.5, 10, 0.01)).toBeCloseTo(0.3);
    expect(limitedFaceMove(-50, 10, 0.01)).toBeCloseTo(-0.3);
    expect(limitedFaceMove(0.1, 10, 0.01)).toBe(0.1);
  });
});

describe('view presets and the ground grid', () => {
  it('frames the box from above, the front and the side, all at the same distance', () => {
    const box = new Box3(new Vector3(-1, 0, -3), new Vector3(1, 2, -1));
    const top = placementFor(box, 'top', 50, 16 / 9);
    const front = placementFor(box, 'front', 50, 16 / 9);
    const side = placementFor(box, 'side', 50, 16 / 9);
    expect(top.target.toArray()).toEqual([0, 1, -2]);
    const offset = (p: { position: Vector3; target: Vector3 }) => p.position.clone().sub(p.target);
    expect(offset(top).normalize().y).toBeGreaterThan(0.999);
    expect(offset(front).normalize().z).toBeCloseTo(1);
    expect(offset(side).normalize().x).toBeCloseTo(1);
    expect(offset(top).length()).toBeCloseTo(offset(side).length());
  });

  it('picks round grid cells, in metres once the scene has a scale', () => {
    expect(gridCell(10, null)).toBe(0.5);
    expect(gridCell(37, null)).toBe(2);
    // 10 units at 0.3 m per unit: 3 m, cells of 0.2 m = 2/3 unit.
    expect(gridCell(10, 0.3)).toBeCloseTo(0.2 / 0.3);
  });
});

describe('stored Q&A markers', () => {
  it('reads back what was stored and drops malformed entries', () => {
    const markers = {
      frame: [{ color: 'red', frameIndex: 2, x: 0.25, y: 0.5 }],
      points: [{ color: 'blue', point: [1, -2, 3.5] }],
    };
    expect(parseQaMarkers(JSON.stringify(markers))).toEqual(markers);
    expect(
      parseQaMarkers(
        JSON.stringify({
          frame: [{ color: 'pink', frameIndex: 1, x: 0, y: 0 }, markers.frame[0]],
          points: [
            { color: 'green', point: [1, 2] },
            { color: 'green', point: [1, 'a', 3] },
          ],
        }),
      ),
    ).toEqual({ frame: markers.frame, points: [] });
    expect(parseQaMarkers('{not json')).toEqual({ frame: [], points: [] });
    expect(parseQaMarkers(null)).toEqual({ frame: [], points: [] });
  });
});
