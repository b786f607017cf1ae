// Scale and levelling are steps of the scene's edit stack: set through
// scenes.setScale / scenes.setGround (the CLI and the viewer's tools) or
// edits.push, taken back by edits.undo, brought back by edits.redo, on a real
// library with a reconstructed scene. What every consumer reads (the scene's
// summary: measurements, Q&A evidence, exports) follows the stack; the keep
// mask does not change; a library written before the move keeps its values.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneEditState, SceneSummary, StudioEvent } from '../../../../main/common/domain';
import { readPly } from '../../../../main/core/pointcloud/ply-reader';
import { Library } from '../../../../main/core/library/library';
import { migrate } from '../../../../main/core/library/migrations';
import { libraryLocation } from '../../../../main/core/settings';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { syntheticScene, tempDir } from '../../../support/library-fixtures';
import { exportPointsJob } from '../../../support/export-job';
import { reconstructedFloorScene } from '../../../support/reconstructed-scene';

const { dir, cleanup } = tempDir('g2-settings-');
const libraryPath = join(dir, 'lib');
let studio: Studio;
let sceneId = '';
const events: StudioEvent[] = [];

const call = <T>(name: string, input: unknown): Promise<T> => studio.call(name, input) as Promise<T>;
const summary = () => call<SceneSummary>('scenes.get', { sceneId });
const floorPoints: Array<[number, number, number]> = [
  [0, 1, 2],
  [2, 1, 3],
  [1, 1, 5],
];

beforeAll(async () => {
  studio = await createStudio({ libraryPath, mode: 'cli' });
  sceneId = await reconstructedFloorScene(studio.library);
  studio.subscribe((event) => events.push(event));
});
afterAll(async () => {
  await studio.close();
  cleanup();
});

describe('scale and levelling on the edit stack', () => {
  it('a scale is an edit: undo removes it, redo brings it back, the mask never changes', async () => {
    const before = await call<SceneEditState>('edits.get', { sceneId });
    const scaled = await call<SceneSummary>('scenes.setScale', {
      sceneId,
      scale: { kind: 'known-distance', a: [0, 1, 2], b: [2, 1, 2], metres: 3 },
    });
    expect(scaled.metresPerUnit).toBeCloseTo(1.5, 12);
    let state = await call<SceneEditState>('edits.get', { sceneId });
    expect(state.edits.map((e) => e.edit)).toEqual([{ kind: 'scale', params: { metresPerUnit: 1.5 } }]);
    // The points see nothing: same mask, same blob URL.
    expect(state.revision).toBe(before.revision);
    expect(state.keptCount).toBe(before.keptCount);

    state = await call<SceneEditState>('edits.undo', { sceneId });
    expect(state.edits).toEqual([]);
    expect(state.redo.map((e) => e.edit.kind)).toEqual(['scale']);
    expect((await summary()).metresPerUnit).toBeNull();
    // The viewer hears that the scene itself changed (it refetches metresPerUnit).
    expect(events.at(-1)).toEqual({ type: 'scenes-changed', sceneId, parts: ['meta'] });

    await call('edits.redo', { sceneId });
    expect((await summary()).metresPerUnit).toBeCloseTo(1.5, 12);
  });

  it('a second scale and a cleared scale undo to the one before', async () => {
    await call('scenes.setScale', { sceneId, scale: { kind: 'metres-per-unit', value: 0.25 } });
    expect((await summary()).metresPerUnit).toBe(0.25);
    await call('scenes.setScale', { sceneId, scale: { kind: 'none' } });
    expect((await summary()).metresPerUnit).toBeNull();
    await call('edits.undo', { sceneId });
    expect((await summary()).metresPerUnit).toBe(0.25);
    await call('edits.undo', { sceneId });
    expect((await summary()).metresPerUnit).toBeCloseTo(1.5, 12);
  });

  it('a levelling is an edit too, interleaved with point edits in one history', async () => {
    const crop = await call<SceneEditState>('edits.push', {
      sceneId,
      edit: { kind: 'crop', params: { box: { min: [-10, -10, -10], max: [10, 10, 4] } } },
    });
    const levelled = await call<SceneSummary>('scenes.setGround', {
      sceneId,
      ground: { kind: 'points', points: floorPoints },
    });
    expect(levelled.groundAlignment).toHaveLength(16);
    let state = await call<SceneEditState>('edits.get', { sceneId });
    expect(state.edits.map((e) => e.edit.kind)).toEqual(['scale', 'crop', 'ground']);
    expect(state.keptCount).toBe(crop.keptCount);

    // Ctrl+Z takes the levelling back first, then the crop; the scale stays.
    state = await call<SceneEditState>('edits.undo', { sceneId });
    expect((await summary()).groundAlignment).toBeNull();
    expect(state.keptCount).toBe(crop.keptCount);
    state = await call<SceneEditState>('edits.undo', { sceneId });
    expect(state.keptCount).toBeGreaterThan(crop.keptCount);
    expect((await summary()).metresPerUnit).toBeCloseTo(1.5, 12);
    await call('edits.redo', { sceneId });
    state = await call<SceneEditState>('edits.redo', { sceneId });
    expect(state.keptCount).toBe(crop.keptCount);
    expect((await summary()).groundAlignment).toEqual(levelled.groundAlignment);
  });

  it('exports follow the stack: an undone scale is not applied', async () => {
    const exportSpanX = async () => {
      const result = await exportPointsJob(studio, { sceneId, format: 'ply' });
      const cloud = await readPly(join(libraryPath, 'exports', result.exportId, result.fileName));
      let lo = Infinity,
        hi = -Infinity;
      for (let i = 0; i < cloud.count; i++) {
        lo = Math.min(lo, cloud.positions[3 * i]);
        hi = Math.max(hi, cloud.positions[3 * i]);
      }
      return hi - lo;
    };
    await call('scenes.setScale', { sceneId, scale: { kind: 'metres-per-unit', value: 2 } });
    const scaled = await exportSpanX();
    await call('edits.undo', { sceneId });
    const unscaled = await exportSpanX();
    expect(scaled / unscaled).toBeCloseTo(2 / 1.5, 6);
  });

  it('refuses a pushed levelling that is not a rotation and a translation, storing nothing', async () => {
    const before = await call<SceneEditState>('edits.get', { sceneId });
    const stretched = [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    await expect(
      call('edits.push', { sceneId, edit: { kind: 'ground', params: { levelledFromScene: stretched } } }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(
      call('edits.push', { sceneId, edit: { kind: 'scale', params: { metresPerUnit: -1 } } }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
    expect((await call<SceneEditState>('edits.get', { sceneId })).edits).toEqual(before.edits);
  });

  it('a scene without points can be scaled (CLI), and its scale is still on the stack', async () => {
    const scene = studio.library.scenes.create(await syntheticScene(2, 0, 'Frames only'));
    const scaled = await call<SceneSummary>('scenes.setScale', {
      sceneId: scene.id,
      scale: { kind: 'metres-per-unit', value: 0.5 },
    });
    expect(scaled.metresPerUnit).toBe(0.5);
    expect(studio.library.annotations.edits(scene.id).map((e) => e.kind)).toEqual(['scale']);
  });
});

describe('a library written before scale and levelling moved onto the stack', () => {
  it('keeps both as the first edits of the stack, below its edits and redo list', async () => {
    const oldDir = join(dir, 'old-lib');
    const { dbFile } = libraryLocation(oldDir);
    // Version 6: scale and levelling were columns of the scene.
    const seed = Library.open(oldDir);
    const scene = seed.scenes.create(await syntheticScene(2, 100, 'Old'));
    seed.close();
    const raw = new Database(dbFile);
    raw.prepare('DELETE FROM schema_version WHERE version > 6').run();
    // Undo what versions 7 and 8 did, to stand where a version-6 library stands.
    raw.exec(`
      DROP TABLE stage_rates;
      ALTER TABLE scenes ADD COLUMN metres_per_unit REAL;
      ALTER TABLE scenes ADD COLUMN ground_alignment_json TEXT;
    `);
    const levelling = [1, 0, 0, 0, 0, 0, -1, 0.5, 0, 1, 0, 0, 0, 0, 0, 1];
    raw
      .prepare('UPDATE scenes SET metres_per_unit = 0.02, ground_alignment_json = ? WHERE id = ?')
      .run(JSON.stringify(levelling), scene.id);
    const edit = (id: string, seq: number, undone: number) =>
      raw
        .prepare(
          `INSERT INTO edits (id, scene_id, seq, kind, params_json, undone, created_at)
           VALUES (?, ?, ?, 'voxel', '{"voxelSize":0.1}', ?, '2026-01-01T00:00:00Z')`,
        )
        .run(id, scene.id, seq, undone);
    edit('edt_kept', 1, 0);
    edit('edt_undone', 2, 1);
    // Version 7 alone (the one under test); opening the library applies the later ones.
    expect(migrate(raw, 7)).toEqual([7]);
    raw.close();

    const library = Library.open(oldDir);
    try {
      const migrated = library.scenes.summary(scene.id)!;
      expect(migrated.metresPerUnit).toBe(0.02);
      expect(migrated.groundAlignment).toEqual(levelling);
      const stack = library.annotations.edits(scene.id, { includeUndone: true });
      expect(stack.map((e) => [e.seq, e.kind, e.undone])).toEqual([
        [1, 'scale', false],
        [2, 'ground', false],
        [3, 'voxel', false],
        [4, 'voxel', true],
      ]);
      // Undo the kept voxel, then the levelling, then the scale: nothing is left.
      library.annotations.undo(scene.id);
      library.annotations.undo(scene.id);
      expect(library.scenes.summary(scene.id)!.groundAlignment).toBeNull();
      library.annotations.undo(scene.id);
      expect(library.scenes.summary(scene.id)!.metresPerUnit).toBeNull();
      expect(library.integrityCheck()).toBe('ok');
    } finally {
      library.close();
    }
  });
});
