// Changing which frames a reconstruction uses, through the studio's front-door
// call on a real SQLite library: frames imported from a real video by real
// ffmpeg, selected by hand or by the automatic selection run again, refused
// while a reconstruction (of this process or another live one) holds them.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, SceneDetail, StudioEvent } from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { JobStore } from '../../../../main/core/library/job-store';
import { reconstructedFloorScene } from '../../../support/reconstructed-scene';
import { syntheticPoints, tempDir } from '../../../support/library-fixtures';
import { SHARED_DIR } from '../../../support/shared-dir';

const WALK = join(SHARED_DIR, 'samples', 'video', 'dl3dv-walk.mp4');
const PHOTOS = join(SHARED_DIR, 'samples', 'arkitscenes');

const { dir, cleanup } = tempDir('g2-studio-frames-');
const libraryPath = join(dir, 'lib');
let studio: Studio;
const events: StudioEvent[] = [];
/** The walk video imported with 5 frames (15 candidates): the import's own selection. */
let walk: SceneDetail;

async function importScene(input: unknown): Promise<SceneDetail> {
  const { jobId } = (await studio.call('scenes.import', input)) as { jobId: string };
  const job = await studio.waitForJob(jobId);
  expect(job.status, job.message).toBe('succeeded');
  return (await studio.call('scenes.get', { sceneId: String(job.result?.sceneId) })) as SceneDetail;
}

async function expectStudioError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  expect((error as StudioError).code).toBe(code);
  expect((error as StudioError).fix.length).toBeGreaterThan(0);
  if (message) expect((error as StudioError).message).toMatch(message);
}

const selectedIds = (scene: SceneDetail): string[] => scene.frames.filter((f) => f.selected).map((f) => f.id);

beforeAll(async () => {
  studio = await createStudio({ libraryPath, mode: 'cli' });
  studio.subscribe((event) => events.push(event));
  walk = await importScene({ sources: [{ kind: 'path', path: WALK }], frames: 5 });
  expect(walk.frames.length).toBe(15);
  expect(selectedIds(walk)).toHaveLength(5);
});
afterAll(async () => {
  await studio?.close();
  cleanup();
});

describe('re-running the automatic selection', () => {
  it('with the import count, picks what the import picked (same rules on the stored frames)', async () => {
    const again = (await studio.call('scenes.reselectFrames', { sceneId: walk.id, count: 5 })) as SceneDetail;
    expect(selectedIds(again)).toEqual(selectedIds(walk));
  });

  it('with a new count: that many frames, one per stretch of time, the sharpest unless a near-duplicate', async () => {
    events.length = 0;
    const eight = (await studio.call('scenes.reselectFrames', { sceneId: walk.id, count: 8 })) as SceneDetail;
    expect(selectedIds(eight)).toHaveLength(8);
    // One pick in each of 8 consecutive windows of the 15 candidates (selectFrames' windows).
    for (let w = 0; w < 8; w++) {
      const inWindow = eight.frames.slice(Math.floor((w * 15) / 8), Math.floor(((w + 1) * 15) / 8));
      expect(
        inWindow.filter((f) => f.selected),
        `window ${w}`,
      ).toHaveLength(1);
    }
    expect(events).toContainEqual({ type: 'scenes-changed', sceneId: walk.id, parts: ['frames'] });
    // The library holds it: a fresh read agrees.
    const stored = (await studio.call('scenes.get', { sceneId: walk.id })) as SceneDetail;
    expect(selectedIds(stored)).toEqual(selectedIds(eight));
  });

  it('asked for as many frames as there are (or more), selects them all', async () => {
    const all = (await studio.call('scenes.reselectFrames', { sceneId: walk.id, count: 40 })) as SceneDetail;
    expect(selectedIds(all)).toHaveLength(15);
  });

  it('photos: the sharpest of each group, as a photo import with --frames picks', async () => {
    const photos = await importScene({ sources: [{ kind: 'path', path: PHOTOS }] });
    expect(photos.frames.length).toBeGreaterThan(3);
    const picked = (await studio.call('scenes.reselectFrames', {
      sceneId: photos.id,
      count: 3,
    })) as SceneDetail;
    const imported = await importScene({ sources: [{ kind: 'path', path: PHOTOS }], frames: 3 });
    expect(picked.frames.map((f) => f.selected)).toEqual(imported.frames.map((f) => f.selected));
    expect(selectedIds(picked)).toHaveLength(3);
  });
});

describe('selecting frames by hand', () => {
  it('selects and deselects the frames named, leaves the others, and survives reopening the library', async () => {
    const before = (await studio.call('scenes.reselectFrames', {
      sceneId: walk.id,
      count: 5,
    })) as SceneDetail;
    const [a, b] = before.frames.filter((f) => f.selected);
    const c = before.frames.find((f) => !f.selected);
    if (!c) throw new Error('the walk scene has unselected candidates');
    events.length = 0;
    await studio.call('scenes.selectFrames', { sceneId: walk.id, frameIds: [a.id, b.id], selected: false });
    const after = (await studio.call('scenes.selectFrames', {
      sceneId: walk.id,
      frameIds: [c.id, c.id],
      selected: true,
    })) as SceneDetail;
    const expected = new Set(selectedIds(before));
    expected.delete(a.id);
    expected.delete(b.id);
    expected.add(c.id);
    expect(new Set(selectedIds(after))).toEqual(expected);
    expect(events.filter((e) => e.type === 'scenes-changed')).toEqual([
      { type: 'scenes-changed', sceneId: walk.id, parts: ['frames'] },
      { type: 'scenes-changed', sceneId: walk.id, parts: ['frames'] },
    ]);
    // Selecting what is already selected changes nothing and tells nobody.
    events.length = 0;
    await studio.call('scenes.selectFrames', { sceneId: walk.id, frameIds: [c.id], selected: true });
    expect(events).toEqual([]);

    await studio.close();
    studio = await createStudio({ libraryPath, mode: 'cli' });
    studio.subscribe((event) => events.push(event));
    const reopened = (await studio.call('scenes.get', { sceneId: walk.id })) as SceneDetail;
    expect(new Set(selectedIds(reopened))).toEqual(expected);
  });

  it('refuses ids that are not frames of the scene, and changes nothing', async () => {
    const other = await importScene({ sources: [{ kind: 'path', path: PHOTOS }], frames: 2 });
    const before = (await studio.call('scenes.get', { sceneId: walk.id })) as SceneDetail;
    await expectStudioError(
      studio.call('scenes.selectFrames', {
        sceneId: walk.id,
        frameIds: [before.frames[0].id, other.frames[0].id],
        selected: !before.frames[0].selected,
      }),
      'not-found',
      new RegExp(`${other.frames[0].id} is not a frame of "dl3dv-walk"`),
    );
    const after = (await studio.call('scenes.get', { sceneId: walk.id })) as SceneDetail;
    expect(after.frames).toEqual(before.frames);
    await expectStudioError(
      studio.call('scenes.selectFrames', {
        sceneId: 'scn_nope',
        frameIds: [before.frames[0].id],
        selected: true,
      }),
      'not-found',
    );
    await expectStudioError(
      studio.call('scenes.selectFrames', { sceneId: walk.id, frameIds: [], selected: true }),
      'invalid-input',
    );
    await expectStudioError(
      studio.call('scenes.reselectFrames', { sceneId: walk.id, count: 1 }),
      'invalid-input',
    );
  });

  it('a point-cloud scene has no frames to select', async () => {
    const cloud = studio.library.scenes.create({
      name: 'Cloud',
      kind: 'pointcloud',
      source: null,
      frames: [],
      points: syntheticPoints(100),
    });
    await expectStudioError(
      studio.call('scenes.reselectFrames', { sceneId: cloud.id, count: 4 }),
      'invalid-input',
      /no frames/,
    );
  });
});

describe('the frames a reconstruction used', () => {
  it('are recorded with it and stay while the selection changes', async () => {
    const sceneId = await reconstructedFloorScene(studio.library);
    const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    const ids = scene.frames.map((f) => f.id);
    expect(scene.reconstruction?.usedFrameIds).toEqual(ids);
    const changed = (await studio.call('scenes.selectFrames', {
      sceneId,
      frameIds: [ids[1]],
      selected: false,
    })) as SceneDetail;
    expect(selectedIds(changed)).toEqual([ids[0], ids[2]]);
    expect(changed.reconstruction?.usedFrameIds).toEqual(ids);
  });

  it('a reconstruction waiting or running in another live process holds the selection; a dead one does not', async () => {
    const sceneId = await reconstructedFloorScene(studio.library, 'Held');
    const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    // Another process (the app, while this is the CLI) owns a running reconstruction of the scene.
    const other: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: 'ignore',
    });
    try {
      const pid = other.pid;
      if (pid === undefined) throw new Error('could not start the other process');
      const theirs = new JobStore(studio.library.db, { pid, instance: 'other-process' });
      const job: JobInfo = {
        id: 'job_other_reconstruct',
        kind: 'reconstruct',
        title: 'Reconstruct Held',
        sceneId,
        status: 'running',
        progress: 0.4,
        stage: 'dino',
        message: '',
        error: null,
        createdAt: new Date().toISOString(),
        finishedAt: null,
        result: null,
      };
      theirs.save(job);
      await expectStudioError(
        studio.call('scenes.selectFrames', { sceneId, frameIds: [scene.frames[0].id], selected: false }),
        'busy',
        /reconstruction of "Held" is running \(job job_other_reconstruct\)/,
      );
      theirs.save({ ...job, status: 'queued' });
      await expectStudioError(
        studio.call('scenes.reselectFrames', { sceneId, count: 2 }),
        'busy',
        /waiting to run/,
      );
      expect(selectedIds((await studio.call('scenes.get', { sceneId })) as SceneDetail)).toEqual(
        selectedIds(scene),
      );
      // The other process dies with its job unfinished: the job cannot hold the scene any more.
      const exited = new Promise((resolve) => other.once('exit', resolve));
      other.kill('SIGKILL');
      await exited;
      const changed = (await studio.call('scenes.selectFrames', {
        sceneId,
        frameIds: [scene.frames[0].id],
        selected: false,
      })) as SceneDetail;
      expect(changed.frames[0].selected).toBe(false);
      expect(studio.library.jobs.get(job.id)?.status).toBe('failed');
    } finally {
      other.kill('SIGKILL');
    }
  });
});
