import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../support/paths';
import type { JobInfo } from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import type { JobOwner } from '../../../../main/core/library/job-store';
import { Library } from '../../../../main/core/library/library';
import { LATEST_SCHEMA_VERSION, migrate } from '../../../../main/core/library/migrations';
import { libraryLocation } from '../../../../main/core/settings';
import { syntheticPoints, syntheticScene, tempDir } from '../../../support/library-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function freshLibraryDir(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return dir;
}

describe('library', () => {
  it('round-trips a 10k-point scene with frames through a reopened SQLite file', async () => {
    const dir = freshLibraryDir();
    const scene = await syntheticScene(12, 10_000, 'Kitchen walk');
    const library = Library.open(dir);
    const summary = library.scenes.create(scene);
    library.close();

    const reopened = Library.open(dir);
    try {
      expect(reopened.integrityCheck()).toBe('ok');
      const listed = reopened.scenes.list();
      expect(listed.map((s) => s.id)).toEqual([summary.id]);
      expect(listed[0]).toMatchObject({
        name: 'Kitchen walk',
        kind: 'video',
        frameCount: 12,
        pointCount: 10_000,
      });

      const detail = reopened.scenes.get(summary.id);
      expect(detail?.source).toEqual(scene.source);
      expect(detail?.frames.map((f) => f.index)).toEqual(scene.frames.map((f) => f.index));
      expect(detail?.frames.map((f) => f.selected)).toEqual(scene.frames.map((f) => f.selected));
      expect(detail?.frames[3]).toMatchObject({ width: 64, height: 48, timestampS: 3 * 0.2, blurScore: 103 });
      expect(detail?.thumbnailFrameId).toBe(detail?.frames[0].id);

      // Encoded images come back byte for byte.
      const image = reopened.scenes.frameImage(detail!.frames[5].id);
      expect(image?.mime).toBe('image/jpeg');
      expect(image?.bytes.equals(scene.frames[5].image)).toBe(true);
      expect(reopened.scenes.frameThumbnail(detail!.frames[5].id)?.equals(scene.frames[5].thumbnail)).toBe(
        true,
      );

      // Points: same floats and colours, bounds from the data.
      const points = reopened.scenes.points(summary.id);
      expect(points?.count).toBe(10_000);
      expect(
        Buffer.from(
          points!.positions.buffer,
          points!.positions.byteOffset,
          points!.positions.byteLength,
        ).equals(Buffer.from(scene.points!.positions.buffer)),
      ).toBe(true);
      expect(Buffer.from(points!.colors!).equals(Buffer.from(scene.points!.colors!))).toBe(true);
      expect(detail?.bounds?.min[0]).toBeCloseTo(-1, 3);
      expect(detail?.bounds?.max[2]).toBeCloseTo(Math.fround(9_999 / 64 / 10), 5);
    } finally {
      reopened.close();
    }
  });

  it('uses WAL and foreign keys: deleting a scene removes its frames and points', async () => {
    const dir = freshLibraryDir();
    const library = Library.open(dir);
    try {
      expect(library.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(library.db.pragma('foreign_keys', { simple: true })).toBe(1);
      const a = library.scenes.create(await syntheticScene(3, 100, 'A'));
      const b = library.scenes.create(await syntheticScene(2, 50, 'B'));
      expect(library.scenes.delete(a.id)).toBe(true);
      expect(library.scenes.delete(a.id)).toBe(false);
      expect(library.scenes.list().map((s) => s.id)).toEqual([b.id]);
      const orphans = library.db
        .prepare(
          'SELECT (SELECT COUNT(*) FROM frames WHERE scene_id = ?) + (SELECT COUNT(*) FROM scene_points WHERE scene_id = ?) AS n',
        )
        .get(a.id, a.id) as { n: number };
      expect(orphans.n).toBe(0);
      expect(library.scenes.rename(b.id, 'Renamed')?.name).toBe('Renamed');
      expect(library.scenes.rename('scn_missing', 'x')).toBeNull();
    } finally {
      library.close();
    }
  });

  it('rejects a point cloud whose arrays do not match its count, writing nothing', async () => {
    const dir = freshLibraryDir();
    const library = Library.open(dir);
    try {
      const scene = await syntheticScene(2, 0);
      const bad = syntheticPoints(10);
      expect(() => library.scenes.create({ ...scene, points: { ...bad, count: 11 } })).toThrow(
        /position values/,
      );
      expect(library.scenes.list()).toEqual([]);
    } finally {
      library.close();
    }
  });

  it('upgrades an existing version-1 library without losing its scenes or jobs', () => {
    const dir = freshLibraryDir();
    const { dbFile } = libraryLocation(dir);
    // A library as the first release wrote it.
    const old = new Database(dbFile);
    old.pragma('journal_mode = WAL');
    expect(migrate(old, 1)).toEqual([1]);
    old
      .prepare(
        `INSERT INTO scenes (id, name, kind, created_at, updated_at) VALUES ('scn_old', 'Old scene', 'photos', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO frames (id, scene_id, frame_index, width, height, blur_score, selected, image_mime, image, thumbnail)
         VALUES ('frm_old', 'scn_old', 0, 640, 480, 12.5, 1, 'image/jpeg', x'FFD8FF', x'FFD8FF')`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO jobs (id, kind, title, status, created_at) VALUES ('job_old', 'import', 'Import old', 'succeeded', '2026-01-01T00:00:00Z')`,
      )
      .run();
    old.close();

    const library = Library.open(dir);
    try {
      expect(library.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
      const versions = library.db
        .prepare('SELECT version FROM schema_version ORDER BY version')
        .pluck()
        .all();
      expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
      const [scene] = library.scenes.list();
      // Version 3 back-fills the thumbnail frame for scenes written before it existed.
      expect(scene).toMatchObject({
        id: 'scn_old',
        name: 'Old scene',
        frameCount: 1,
        pointCount: 0,
        thumbnailFrameId: 'frm_old',
      });
      expect(library.jobs.get('job_old')?.status).toBe('succeeded');
      expect(library.integrityCheck()).toBe('ok');
    } finally {
      library.close();
    }
    // Opening again applies nothing new.
    const again = new Database(dbFile);
    expect(migrate(again)).toEqual([]);
    again.close();
  });

  it('keeps markers and a non-destructive edit stack with undo/redo across a reopen', async () => {
    const dir = freshLibraryDir();
    const library = Library.open(dir);
    const scene = library.scenes.create(await syntheticScene(2, 1000, 'Edited'));
    const red = library.annotations.addMarker(scene.id, { color: 'red', frameIndex: 1, x: 10.5, y: 20 });
    library.annotations.addMarker(scene.id, { color: 'blue', frameIndex: 0, x: 1, y: 2 });
    library.annotations.pushEdit(scene.id, 'crop-box', { min: [-1, -1, 0], max: [1, 1, 5] });
    library.annotations.pushEdit(scene.id, 'voxel-downsample', { voxelSize: 0.05 });
    expect(library.annotations.undo(scene.id)?.kind).toBe('voxel-downsample');
    library.close();

    const reopened = Library.open(dir);
    try {
      const { annotations } = reopened;
      expect(annotations.markers(scene.id).map((m) => m.color)).toEqual(['red', 'blue']);
      expect(annotations.markers(scene.id)[0]).toMatchObject({ frameIndex: 1, x: 10.5, y: 20 });
      expect(annotations.edits(scene.id).map((e) => e.kind)).toEqual(['crop-box']);
      expect(annotations.redo(scene.id)?.kind).toBe('voxel-downsample');
      expect(annotations.redo(scene.id)).toBeNull();
      annotations.undo(scene.id);
      // A new edit after an undo drops the undone one, as in any editor.
      annotations.pushEdit(scene.id, 'delete-lasso', { frameIndex: 0, polygon: [0, 0, 5, 0, 5, 5] });
      expect(annotations.edits(scene.id, { includeUndone: true }).map((e) => [e.seq, e.kind])).toEqual([
        [1, 'crop-box'],
        [2, 'delete-lasso'],
      ]);
      expect(annotations.edits(scene.id)[0].params).toEqual({ min: [-1, -1, 0], max: [1, 1, 5] });
      // The point cloud itself is untouched by edits.
      expect(reopened.scenes.points(scene.id)?.count).toBe(1000);
      expect(annotations.removeMarker(red.id)).toBe(true);
      // Deleting the scene takes its annotations with it.
      reopened.scenes.delete(scene.id);
      expect(annotations.markers(scene.id)).toEqual([]);
      expect(annotations.edits(scene.id, { includeUndone: true })).toEqual([]);
    } finally {
      reopened.close();
    }
  });

  it('fails fast with a typed error for a library path it cannot use', () => {
    const dir = freshLibraryDir();
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    writeFileSync(join(dir, 'notes.sqlite'), 'not a database either');
    const cases = [join(dir, 'a-file', 'lib'), join(dir, 'notes.sqlite')];
    // Node's recursive mkdir spins forever under /proc: this must not hang.
    if (process.platform === 'linux') cases.push('/proc/g2studio-library');
    for (const path of cases) {
      expect(() => Library.open(path)).toThrow(StudioError);
      try {
        Library.open(path);
      } catch (error) {
        expect((error as StudioError).code).toBe('unreadable-path');
        expect((error as StudioError).fix).toMatch(/--library PATH/);
      }
    }
  });

  it('refuses a library written by a newer version instead of guessing', () => {
    const dir = freshLibraryDir();
    Library.open(dir).close();
    const db = new Database(libraryLocation(dir).dbFile);
    db.prepare(
      "INSERT INTO schema_version (version, description, applied_at) VALUES (999, 'future', 'now')",
    ).run();
    db.close();
    expect(() => Library.open(dir)).toThrow(/newer G2 Studio/);
  });

  it('marks jobs left running by a killed process as failed on the next open, and only those', () => {
    const dir = freshLibraryDir();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const job = (id: string, title: string): JobInfo => ({
      id,
      kind: 'reconstruct',
      title,
      sceneId: null,
      status: 'running',
      progress: 0.4,
      stage: 'decoders',
      message: 'Reconstructing 16 frames',
      error: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      result: null,
    });
    // Three other processes wrote running jobs: one was killed, one is still
    // running (our parent stands in for the app), one is an earlier run that
    // had this very pid (a restarted container).
    const asOwner = (owner: JobOwner, info: JobInfo): void => {
      const lib = Library.open(dir, { jobOwner: owner });
      lib.jobs.save(info);
      lib.close();
    };
    // (Written in this order so no writer's own open already fails another's job.)
    asOwner({ pid: process.pid, instance: 'previous-run' }, job('job_previous', 'Reconstruct Hall'));
    asOwner({ pid: process.ppid, instance: 'app' }, job('job_alive', 'Reconstruct Garden'));
    asOwner({ pid: deadPid, instance: 'killed' }, job('job_killed', 'Reconstruct Kitchen'));

    const reopened = Library.open(dir);
    try {
      expect(reopened.interruptedJobs).toBe(2);
      const killed = reopened.jobs.get('job_killed');
      expect(killed?.status).toBe('failed');
      expect(killed?.error?.message).toMatch(/stopped while this job was running/);
      expect(killed?.finishedAt).not.toBeNull();
      expect(reopened.jobs.get('job_previous')?.status).toBe('failed');
      expect(reopened.jobs.get('job_alive')?.status).toBe('running');
    } finally {
      reopened.close();
    }
  });

  it("removes an export killed with -9 (its temporary file) at the next open, not a running writer's", async () => {
    const dir = freshLibraryDir();
    Library.open(dir).close();
    const killedExport = join(dir, 'exports', 'exp_killed');
    const liveExport = join(dir, 'exports', 'exp_live');
    mkdirSync(killedExport, { recursive: true });
    mkdirSync(liveExport, { recursive: true });
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test', 'support', 'stall-atomic-write-child.ts'),
      join(killedExport, 'scene.ply'),
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(readdirSync(killedExport)).toEqual([
      expect.stringMatching(/^\.scene\.ply\.\d+\.[0-9a-f]{8}\.tmp$/),
    ]);
    const live = join(liveExport, `.scene.ply.${process.pid}.0123abcd.tmp`);
    writeFileSync(live, 'in progress');
    const done = join(dir, 'exports', 'exp_done');
    mkdirSync(done);
    writeFileSync(join(done, 'scene.ply'), 'finished');

    Library.open(dir).close();
    expect(existsSync(killedExport)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(done)).toEqual(['scene.ply']);
  });
});
