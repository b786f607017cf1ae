// The non-destructive edit stack: undo/redo reducer, replay of every edit kind
// over a real cloud, lasso selection against three.js's own projection.

import { PerspectiveCamera, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../../main/common/errors';
import {
  applyEdits,
  EditCache,
  editedPointCloud,
  type EditBase,
} from '../../../../main/core/cleanup/apply-edits';
import {
  editHistoryReducer,
  editSchema,
  emptyEditHistory,
  type Edit,
  type EditHistory,
} from '../../../../main/common/edit-stack';
import { rowMajorFromColumnMajor, selectInBox, selectInLasso } from '../../../../main/common/selection';

/** A 10 x 10 x 10 lattice (unit spacing, 0..9), coloured by position; frame = x coordinate. */
function latticeBase(): EditBase {
  const count = 1000;
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  const pointFrames = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const x = i % 10,
      y = Math.floor(i / 10) % 10,
      z = Math.floor(i / 100);
    positions.set([x, y, z], 3 * i);
    colors.set([x * 20, y * 20, z * 20], 3 * i);
    pointFrames[i] = x;
  }
  return { cloud: { positions, colors, count }, pointFrames };
}

const crop: Edit = { kind: 'crop', params: { box: { min: [0, 0, 0], max: [4, 9, 9] } } };
const deleteBox: Edit = {
  kind: 'delete-selection',
  params: { selection: { kind: 'box', box: { min: [0, 0, 0], max: [9, 0, 9] } } },
};
const hide: Edit = { kind: 'hide-frames', params: { frameIndices: [0] } };
const voxel: Edit = { kind: 'voxel', params: { voxelSize: 2 } };

describe('edit history reducer', () => {
  it('push / undo / redo, and a push after undo drops the redo list', () => {
    let h: EditHistory = emptyEditHistory;
    expect(editHistoryReducer(h, { type: 'undo' })).toBe(h);
    h = editHistoryReducer(h, { type: 'push', edit: crop });
    h = editHistoryReducer(h, { type: 'push', edit: deleteBox });
    h = editHistoryReducer(h, { type: 'undo' });
    expect(h.edits).toEqual([crop]);
    expect(h.redo).toEqual([deleteBox]);
    h = editHistoryReducer(h, { type: 'redo' });
    expect(h.edits).toEqual([crop, deleteBox]);
    expect(h.redo).toEqual([]);
    expect(editHistoryReducer(h, { type: 'redo' })).toBe(h);
    h = editHistoryReducer(editHistoryReducer(h, { type: 'undo' }), { type: 'push', edit: hide });
    expect(h).toEqual({ edits: [crop, hide], redo: [] });
    expect(editHistoryReducer(h, { type: 'clear' })).toEqual({ edits: [], redo: [] });
  });

  it('the schema accepts every edit kind and rejects malformed ones', () => {
    for (const edit of [crop, deleteBox, hide, voxel]) expect(editSchema.parse(edit)).toEqual(edit);
    expect(editSchema.safeParse({ kind: 'voxel', params: { voxelSize: 0 } }).success).toBe(false);
    expect(
      editSchema.safeParse({ kind: 'crop', params: { box: { min: [1, 0, 0], max: [0, 1, 1] } } }).success,
    ).toBe(false);
    expect(editSchema.safeParse({ kind: 'explode', params: {} }).success).toBe(false);
  });
});

describe('applyEdits', () => {
  it('crop, delete a box selection, hide a frame: the mask narrows in order, the base is untouched', async () => {
    const base = latticeBase();
    const before = base.cloud.positions.slice();
    const result = await applyEdits(base, [crop, deleteBox, hide]);
    expect(result.cloud).toBe(base.cloud);
    // x in 1..4 (crop to x<=4, frame 0 = x 0 hidden), y in 1..9 (y=0 deleted), any z.
    expect(result.keptCount).toBe(4 * 9 * 10);
    const edited = editedPointCloud(result);
    for (let i = 0; i < edited.count; i++) {
      expect(edited.positions[3 * i]).toBeGreaterThanOrEqual(1);
      expect(edited.positions[3 * i]).toBeLessThanOrEqual(4);
      expect(edited.positions[3 * i + 1]).toBeGreaterThanOrEqual(1);
      expect(edited.colors![3 * i]).toBe(edited.positions[3 * i] * 20);
    }
    expect(base.cloud.positions).toEqual(before);
  });

  it('keep-selection keeps only the selection; voxel then replaces the cloud by voxel means', async () => {
    const base = latticeBase();
    const keepCorner: Edit = {
      kind: 'keep-selection',
      params: { selection: { kind: 'box', box: { min: [0, 0, 0], max: [3, 3, 3] } } },
    };
    const result = await applyEdits(base, [keepCorner, voxel]);
    expect(result.cloud.count).toBe(8); // 4x4x4 lattice points into 2x2x2 voxels of 2
    expect(result.keptCount).toBe(8);
    expect(result.pointFrames).toBeNull();
    const xs = new Set(Array.from({ length: 8 }, (_, i) => result.cloud.positions[3 * i]));
    expect([...xs].sort()).toEqual([0.5, 2.5]);
  });

  it('several regions are one selection: keep keeps their union, hidden frames stay out of a delete', async () => {
    const base = latticeBase();
    const corner = (
      at: number,
    ): { kind: 'box'; box: { min: [number, number, number]; max: [number, number, number] } } => ({
      kind: 'box',
      box: { min: [at, at, at], max: [at + 1, at + 1, at + 1] },
    });
    const keepTwo: Edit = {
      kind: 'keep-selection',
      params: { selection: { kind: 'regions', regions: [corner(0), corner(8)] } },
    };
    expect(editSchema.safeParse(keepTwo).success).toBe(true);
    expect((await applyEdits(base, [keepTwo])).keptCount).toBe(16); // two 2x2x2 corners
    // Frame = x: hide frame 0, delete the corner at the origin, show frame 0 again — its points come back.
    const deleteCorner: Edit = { kind: 'delete-selection', params: { selection: corner(0) } };
    const result = await applyEdits(base, [
      hide,
      deleteCorner,
      { kind: 'hide-frames', params: { frameIndices: [] } },
    ]);
    expect(result.keptCount).toBe(1000 - 4); // only the x = 1 half of the corner was visible to delete
    expect(result.hiddenFrames).toEqual([]);
  });

  it('undoing an edit and replaying gives the earlier state; the cache returns the same results', async () => {
    const base = latticeBase();
    let history = emptyEditHistory;
    for (const edit of [crop, deleteBox, voxel])
      history = editHistoryReducer(history, { type: 'push', edit });
    const cache = new EditCache();
    const full = await applyEdits(base, history.edits, { cache });
    history = editHistoryReducer(history, { type: 'undo' });
    const undone = await applyEdits(base, history.edits, { cache });
    const fresh = await applyEdits(base, [crop, deleteBox]);
    expect(undone.keep).toEqual(fresh.keep);
    expect(undone.cloud).toBe(base.cloud);
    history = editHistoryReducer(history, { type: 'redo' });
    const redone = await applyEdits(base, history.edits, { cache });
    expect(redone.cloud.positions).toEqual(full.cloud.positions);
  });

  it('filters: outlier filter drops a stray point; map-based filters need scores; hide-frames after voxel is refused', async () => {
    const base = latticeBase();
    base.cloud.positions.set([50, 50, 50], 3 * 999);
    const out = await applyEdits(base, [
      { kind: 'filter', params: { score: 'outlier', cut: { mode: 'threshold', value: 3 } } },
    ]);
    expect(out.keep[999]).toBe(0);
    expect(out.keptCount).toBe(999);
    await expect(
      applyEdits(base, [
        { kind: 'filter', params: { score: 'depthEdge', cut: { mode: 'threshold', value: 0.05 } } },
      ]),
    ).rejects.toSatisfy(
      (e: unknown) => e instanceof StudioError && e.code === 'invalid-input' && e.fix.length > 0,
    );
    await expect(applyEdits(base, [voxel, hide])).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof StudioError && e.code === 'invalid-input' && /before the voxel/.test(e.fix),
    );
    const depthEdge = new Float32Array(1000).map((_, i) => (i % 2 ? 1 : 0));
    const scored = await applyEdits({ ...base, scores: { depthEdge } }, [
      { kind: 'filter', params: { score: 'depthEdge', cut: { mode: 'percentile', removePercent: 50 } } },
    ]);
    expect(scored.keptCount).toBe(500);
    expect(scored.keep[1]).toBe(0);
    expect(scored.keep[2]).toBe(1);
  });
});

describe('selections', () => {
  it('an oriented crop box: boxFromWorld rotates the world into the box', () => {
    // Box space = world rotated 90° about z: box x = world y, box y = −world x.
    const boxFromWorld = [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const positions = new Float32Array([0, 1.5, 0, 1.5, 0, 0]);
    expect(Array.from(selectInBox(positions, 2, { min: [1, -1, -1], max: [2, 1, 1], boxFromWorld }))).toEqual(
      [1, 0],
    );
  });

  it('lasso selection equals three.js projection of each point into a drawn polygon', () => {
    const camera = new PerspectiveCamera(60, 4 / 3, 0.1, 100);
    camera.position.set(1, 2, 8);
    camera.lookAt(0, 0, 0);
    camera.updateMatrixWorld();
    const viewProjection = rowMajorFromColumnMajor(
      camera.projectionMatrix.clone().multiply(camera.matrixWorldInverse).elements,
    );
    const polygon: Array<[number, number]> = [
      [-0.6, -0.5],
      [0.5, -0.6],
      [0.1, 0.7],
    ];
    const count = 4000;
    const positions = new Float32Array(count * 3);
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 24 - 12;
    for (let i = 0; i < count * 3; i++) positions[i] = rand();
    const selected = selectInLasso(positions, count, { polygon, viewProjection });
    const inTriangle = (x: number, y: number): boolean => {
      const sign = (ax: number, ay: number, bx: number, by: number): number =>
        (x - bx) * (ay - by) - (ax - bx) * (y - by);
      const [a, b, c] = polygon;
      const d1 = sign(a[0], a[1], b[0], b[1]),
        d2 = sign(b[0], b[1], c[0], c[1]),
        d3 = sign(c[0], c[1], a[0], a[1]);
      return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
    };
    let expectedCount = 0;
    for (let i = 0; i < count; i++) {
      const v = new Vector3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]);
      const inFront = v.clone().applyMatrix4(camera.matrixWorldInverse).z < 0;
      v.project(camera);
      const expected = inFront && inTriangle(v.x, v.y) ? 1 : 0;
      expectedCount += expected;
      expect(selected[i]).toBe(expected);
    }
    expect(expectedCount).toBeGreaterThan(50);
  });
});
