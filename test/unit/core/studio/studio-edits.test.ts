// Clean, measure, scale and export through the studio's API on a real library:
// a reconstructed scene (three cameras over a floor, stored the way a
// reconstruction stores it), the edit stack with undo/redo surviving a reopen,
// scale and levelling, and exports that hold exactly what the edits leave —
// PLY read back, COLMAP zip unzipped and parsed, nerfstudio folder parsed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPaths } from '../../../../main/common/api';
import type {
  CameraExportResult,
  SceneDetail,
  SceneEditState,
  SceneSummary,
} from '../../../../main/common/domain';
import type { Edit } from '../../../../main/common/edit-stack';
import { StudioError } from '../../../../main/common/errors';
import { readPly } from '../../../../main/core/pointcloud/ply-reader';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { exportPointsJob } from '../../../support/export-job';
import { tempDir } from '../../../support/library-fixtures';
import {
  FLOOR_MAP_HEIGHT as H,
  FLOOR_MAP_WIDTH as W,
  reconstructedFloorScene,
} from '../../../support/reconstructed-scene';

const { dir, cleanup } = tempDir('g2-edits-');
const libraryPath = join(dir, 'lib');
let studio: Studio;
let sceneId = '';
// gltf-validator ships without type declarations: loaded with require and typed here.
const gltfValidator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array): Promise<{ issues: { numErrors: number } }>;
};

const call = <T>(name: string, input: unknown): Promise<T> => studio.call(name, input) as Promise<T>;
const total = 3 * W * H;

beforeAll(async () => {
  studio = await createStudio({ libraryPath, mode: 'cli' });
  sceneId = await reconstructedFloorScene(studio.library);
});
afterAll(async () => {
  await studio.close();
  cleanup();
});

async function keepMask(state: SceneEditState): Promise<Uint8Array> {
  const blob = await studio.openBlob(blobPaths.editKeep(sceneId, state.revision));
  expect(blob).not.toBeNull();
  return new Uint8Array(blob!.body as Buffer);
}

describe('edit stack through the API', () => {
  it('starts empty with every quality score available for a reconstructed scene', async () => {
    const state = await call<SceneEditState>('edits.get', { sceneId });
    expect(state).toMatchObject({ edits: [], redo: [], cloud: 'base', pointCount: total, keptCount: total });
    expect(state.availableScores).toEqual(['depthEdge', 'inconsistency', 'outlier']);
    const scores = await studio.openBlob(blobPaths.editScores(sceneId, 'depthEdge', state.revision));
    expect((scores!.body as Buffer).byteLength).toBe(total * 4);
  });

  it('filters by depth edges, hides and shows frames, undoes and redoes — and the mask says so', async () => {
    let state = await call<SceneEditState>('edits.push', {
      sceneId,
      edit: {
        kind: 'filter',
        params: { score: 'depthEdge', cut: { mode: 'percentile', removePercent: 10 } },
      },
    });
    const afterFilter = state.keptCount;
    // The floor/wall seam is a depth discontinuity: some points go, most stay.
    expect(afterFilter).toBeLessThan(total);
    expect(afterFilter).toBeGreaterThan(total * 0.85);
    const mask = await keepMask(state);
    expect(mask.length).toBe(total);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(afterFilter);

    state = await call('edits.push', {
      sceneId,
      edit: { kind: 'hide-frames', params: { frameIndices: [1] } },
    });
    expect(state.hiddenFrames).toEqual([1]);
    const hiddenMask = await keepMask(state);
    // Frame 1's points are the second third of the cloud (frame-major order).
    expect(hiddenMask.subarray(W * H, 2 * W * H).every((v) => v === 0)).toBe(true);
    expect(state.keptCount).toBeLessThan(afterFilter);

    state = await call('edits.push', {
      sceneId,
      edit: { kind: 'hide-frames', params: { frameIndices: [] } },
    });
    expect(state.keptCount).toBe(afterFilter);
    state = await call('edits.undo', { sceneId });
    expect(state.hiddenFrames).toEqual([1]);
    expect(state.redo).toHaveLength(1);
    state = await call('edits.redo', { sceneId });
    expect(state).toMatchObject({ hiddenFrames: [], keptCount: afterFilter, redo: [] });
  });

  it('refuses an edit that cannot apply and leaves the stack as it was', async () => {
    const before = await call<SceneEditState>('edits.get', { sceneId });
    const refused: Edit[] = [
      { kind: 'voxel', params: { voxelSize: 0.05 } },
      { kind: 'hide-frames', params: { frameIndices: [0] } },
    ];
    await call('edits.push', { sceneId, edit: refused[0] });
    await expect(call('edits.push', { sceneId, edit: refused[1] })).rejects.toMatchObject({
      code: 'invalid-input',
      fix: expect.stringMatching(/before the voxel/),
    });
    await call('edits.undo', { sceneId });
    const after = await call<SceneEditState>('edits.get', { sceneId });
    expect(after.edits).toEqual(before.edits);
    expect(after.keptCount).toBe(before.keptCount);
    // Malformed edits never reach the core.
    await expect(
      call('edits.push', { sceneId, edit: { kind: 'voxel', params: { voxelSize: -1 } } }),
    ).rejects.toBeInstanceOf(StudioError);
  });

  it('keeps the stack across a restart', async () => {
    const before = await call<SceneEditState>('edits.get', { sceneId });
    await studio.close();
    studio = await createStudio({ libraryPath, mode: 'cli' });
    const after = await call<SceneEditState>('edits.get', { sceneId });
    expect(after.edits).toEqual(before.edits);
    expect(after.redo).toEqual(before.redo);
    expect(after.revision).toBe(before.revision);
    expect(after.keptCount).toBe(before.keptCount);
  });
});

describe('scale, levelling and exports', () => {
  it('sets metric scale from a known distance and refuses a degenerate one', async () => {
    const scene = await call<SceneSummary>('scenes.setScale', {
      sceneId,
      scale: { kind: 'known-distance', a: [0, 1, 2], b: [2, 1, 2], metres: 3 },
    });
    expect(scene.metresPerUnit).toBeCloseTo(1.5, 12);
    await expect(
      call('scenes.setScale', {
        sceneId,
        scale: { kind: 'known-distance', a: [1, 1, 1], b: [1, 1, 1], metres: 1 },
      }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
    expect((await call<SceneSummary>('scenes.get', { sceneId })).metresPerUnit).toBeCloseTo(1.5, 12);
  });

  it('levels the scene on picked floor points: the floor becomes y = 0 with up along −y', async () => {
    // Floor points (y = 1) picked anywhere; the cameras are above (y = 0 < 1, i.e. "up" is −y already).
    const picked: Array<[number, number, number]> = [
      [0, 1, 2],
      [2, 1, 3],
      [1, 1, 5],
    ];
    const scene = await call<SceneSummary>('scenes.setGround', {
      sceneId,
      ground: { kind: 'points', points: picked },
    });
    const m = scene.groundAlignment!;
    expect(m).toHaveLength(16);
    const apply = (p: number[]) =>
      [0, 1, 2].map((r) => m[4 * r] * p[0] + m[4 * r + 1] * p[1] + m[4 * r + 2] * p[2] + m[4 * r + 3]);
    for (const p of picked) expect(apply(p)[1]).toBeCloseTo(0, 9);
    // A camera centre (above the floor) ends on the −y side.
    expect(apply([0, 0, 0])[1]).toBeLessThan(0);
  });

  it('exports a PLY of exactly the kept points, levelled and in metres', async () => {
    const state = await call<SceneEditState>('edits.get', { sceneId });
    const scene = await call<SceneDetail>('scenes.get', { sceneId });
    const result = await exportPointsJob(studio, { sceneId, format: 'ply' });
    expect(result.pointCount).toBe(state.keptCount);
    const cloud = await readPly(join(libraryPath, 'exports', result.exportId, result.fileName));
    expect(cloud.count).toBe(state.keptCount);
    // Every floor point is at y = 0 after levelling, whatever the scale; wall points are above (y < 0).
    let onFloor = 0;
    for (let i = 0; i < cloud.count; i++) if (Math.abs(cloud.positions[3 * i + 1]) < 1e-4) onFloor++;
    expect(onFloor).toBeGreaterThan(cloud.count / 3);
    // Distances scale by metresPerUnit: the span along x (cameras 0..2 apart, same floor) grows by 1.5.
    const stored = studio.library.scenes.points(sceneId)!;
    const span = (p: Float32Array, n: number) => {
      let lo = Infinity,
        hi = -Infinity;
      for (let i = 0; i < n; i++) {
        lo = Math.min(lo, p[3 * i]);
        hi = Math.max(hi, p[3 * i]);
      }
      return hi - lo;
    };
    expect(span(cloud.positions, cloud.count) / span(stored.positions, stored.count)).toBeCloseTo(
      scene.metresPerUnit!,
      1,
    );
  });

  it('exports a COLMAP zip whose cameras and images match the stored poses', async () => {
    const { jobId } = await call<{ jobId: string }>('scenes.exportCameras', { sceneId, format: 'colmap' });
    const job = await studio.waitForJob(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const result = job.result as unknown as CameraExportResult;
    expect(result).toMatchObject({ format: 'colmap', cameraCount: 3 });
    const exportId = result.exportId ?? 'missing';
    const blob = await studio.openBlob(blobPaths.export(exportId));
    expect(blob?.contentType).toBe('application/zip');
    const zip = unzipSync(readFileSync(join(libraryPath, 'exports', exportId, result.fileName)));
    expect(Object.keys(zip).sort()).toEqual(
      expect.arrayContaining(['sparse/0/cameras.txt', 'sparse/0/images.txt', 'sparse/0/points3D.txt']),
    );
    const images = strFromU8(zip['sparse/0/images.txt'])
      .split('\n')
      .filter((line) => /^\d+ /.test(line) && line.split(' ').length === 10);
    expect(images).toHaveLength(3);
    const points = strFromU8(zip['sparse/0/points3D.txt'])
      .split('\n')
      .filter((line) => /^\d+ /.test(line));
    const state = await call<SceneEditState>('edits.get', { sceneId });
    expect(points).toHaveLength(state.keptCount);
    for (const name of Object.keys(zip).filter((n) => n.startsWith('images/'))) {
      expect(zip[name].subarray(0, 2)).toEqual(new Uint8Array([0xff, 0xd8])); // the stored JPEG
    }
  });

  it('writes a nerfstudio folder with only the frames asked for', async () => {
    const scene = await call<SceneDetail>('scenes.get', { sceneId });
    const outDir = join(dir, 'ns-out');
    const { jobId } = await call<{ jobId: string }>('scenes.exportCameras', {
      sceneId,
      format: 'nerfstudio',
      frameIds: [scene.frames[0].id, scene.frames[2].id],
      outDir,
    });
    const job = await studio.waitForJob(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const transforms = JSON.parse(await readFile(join(outDir, 'transforms.json'), 'utf8')) as {
      frames: Array<{ file_path: string; transform_matrix: number[][] }>;
    };
    expect(transforms.frames.map((f) => f.file_path)).toEqual([
      'images/frame_00000.jpg',
      'images/frame_00002.jpg',
    ]);
    // Camera 2 sits 2 units from camera 0 along x in the stored world: 2 × 1.5 m once exported.
    const [a, b] = transforms.frames.map((f) => f.transform_matrix.slice(0, 3).map((row) => row[3]));
    expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeCloseTo(3, 5);
    // A relative path or an existing folder is refused, typed.
    await expect(
      call('scenes.exportCameras', { sceneId, format: 'nerfstudio', outDir: 'relative/dir' }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
    const again = await call<{ jobId: string }>('scenes.exportCameras', {
      sceneId,
      format: 'nerfstudio',
      outDir,
    });
    expect((await studio.waitForJob(again.jobId)).error?.message).toMatch(/already exists/);
  });

  it('exports a levelled, scaled GLB with its cameras that the glTF validator accepts', async () => {
    const result = await exportPointsJob(studio, { sceneId, format: 'glb' });
    const state = await call<SceneEditState>('edits.get', { sceneId });
    expect(result.pointCount).toBe(state.keptCount);
    const bytes = readFileSync(join(libraryPath, 'exports', result.exportId, result.fileName));
    const report = await gltfValidator.validateBytes(new Uint8Array(bytes));
    expect(report.issues.numErrors).toBe(0);
  });

  it('cancels a camera export mid-write and leaves nothing behind', async () => {
    // A scene of its own, with enough points that writing points3D.txt takes many cancel checks.
    const bigScene = await reconstructedFloorScene(studio.library, 'Big floor');
    const big = 1_500_000;
    const positions = new Float32Array(big * 3);
    for (let i = 0; i < big; i++) positions.set([(i % 1000) / 100, 1, 2 + Math.floor(i / 1000) / 300], 3 * i);
    studio.library.scenes.replacePoints(bigScene, { positions, colors: null, count: big });
    const outDir = join(dir, 'cancelled-colmap');
    const { jobId } = await call<{ jobId: string }>('scenes.exportCameras', {
      sceneId,
      format: 'colmap',
      outDir,
    });
    let cancelAsked = false;
    const unsubscribe = studio.subscribe((event) => {
      if (event.type === 'job' && event.job.id === jobId && event.job.stage === 'points' && !cancelAsked) {
        cancelAsked = true;
        void call('jobs.cancel', { jobId });
      }
    });
    const job = await studio.waitForJob(jobId);
    unsubscribe();
    expect(cancelAsked).toBe(true);
    expect(job.status, job.error?.message).toBe('cancelled');
    expect(existsSync(outDir)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('cancelled-colmap'))).toEqual([]);
  });
});
