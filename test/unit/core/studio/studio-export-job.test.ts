// scenes.export (PLY/GLB) as a job on a real studio core and SQLite library in
// a temp folder: it shows in jobs with human stages and growing progress, a
// cancel leaves no file, a download removes the studio's copy, and the sweep
// removes only the studio's own exports once they are old.

import { existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPaths } from '../../../../main/common/api';
import type { ExportResult, JobInfo } from '../../../../main/common/domain';
import { EXPORT_MAX_AGE_MS } from '../../../../main/common/export-lifetime';
import { stageName } from '../../../../main/common/job-stages';
import { removeExpiredExports } from '../../../../main/core/library/export-files';
import { readPly } from '../../../../main/core/pointcloud/ply-reader';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { exportPointsJob } from '../../../support/export-job';
import { syntheticScene, tempDir } from '../../../support/library-fixtures';

const { dir, cleanup } = tempDir('g2-export-job-');
const libraryPath = join(dir, 'lib');
let studio: Studio;
let sceneId: string;
let bigSceneId: string;
const exportsDir = () => join(libraryPath, 'exports');

beforeAll(async () => {
  studio = await createStudio({ libraryPath, mode: 'web', progressIntervalMs: 0 });
  sceneId = studio.library.scenes.create(await syntheticScene(2, 5_000, 'Helix')).id;
  // Enough points that writing an ASCII PLY passes many cancel checks (64 k points each).
  bigSceneId = studio.library.scenes.create(await syntheticScene(2, 1_500_000, 'Big helix')).id;
});
afterAll(async () => {
  await studio.close();
  cleanup();
});

/** Start scenes.export and collect every snapshot of its job until it ends. */
async function runExport(input: Record<string, unknown>): Promise<{ job: JobInfo; snapshots: JobInfo[] }> {
  const snapshots: JobInfo[] = [];
  let jobId = '';
  const early: JobInfo[] = [];
  const unsubscribe = studio.subscribe((event) => {
    if (event.type !== 'job') return;
    if (jobId === '') early.push(event.job);
    else if (event.job.id === jobId) snapshots.push(event.job);
  });
  try {
    ({ jobId } = (await studio.call('scenes.export', input)) as { jobId: string });
    snapshots.unshift(...early.filter((job) => job.id === jobId));
    return { job: await studio.waitForJob(jobId), snapshots };
  } finally {
    unsubscribe();
  }
}

/** Reads a blob to its end as a transport does, then tells it the download was delivered. */
async function download(path: string): Promise<Buffer> {
  const blob = await studio.openBlob(path);
  if (!blob) throw new Error(`no blob at ${path}`);
  const chunks: Buffer[] = [];
  if (Buffer.isBuffer(blob.body)) chunks.push(blob.body);
  else
    await pipeline(
      blob.body,
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      }),
    );
  await blob.onDelivered?.();
  return Buffer.concat(chunks);
}

describe('scenes.export as a job', () => {
  it('runs as an export job through "Applying edits" and "Writing the file", with progress that only grows', async () => {
    const { job, snapshots } = await runExport({ sceneId: bigSceneId, format: 'ply' });
    expect(job.status, job.error?.message).toBe('succeeded');
    expect(job).toMatchObject({ kind: 'export', title: 'Export Big helix (PLY)', sceneId: bigSceneId });
    const result = job.result as unknown as ExportResult;
    expect(result).toMatchObject({ format: 'ply', fileName: 'Big helix.ply', pointCount: 1_500_000 });
    expect(job.message).toBe(
      `Exported 1,500,000 points as Big helix.ply (${(result.bytes / 1024 ** 2).toFixed(1)} MiB).`,
    );

    const stages = [...new Set(snapshots.filter((s) => s.status === 'running').map((s) => s.stage))];
    expect(stages).toEqual(['starting', 'edits', 'write']);
    expect(stages.slice(1).map((stage) => stageName(stage, 'export'))).toEqual([
      'Applying edits',
      'Writing the file',
    ]);
    const writing = snapshots.filter((s) => s.stage === 'write').map((s) => s.progress);
    // 1.5 M points are 23 chunks: progress is reported inside the write, not only at its ends.
    expect(writing.length).toBeGreaterThan(5);
    for (let i = 1; i < writing.length; i++) expect(writing[i]).toBeGreaterThanOrEqual(writing[i - 1]);
    expect(writing[writing.length - 1]).toBeGreaterThan(0.9);

    // It is listed with the scene's jobs, and its file is there to download.
    const listed = (await studio.call('jobs.list', { sceneId: bigSceneId })) as JobInfo[];
    expect(listed.find((item) => item.id === job.id)?.status).toBe('succeeded');
    expect(readdirSync(join(exportsDir(), result.exportId))).toEqual(['Big helix.ply']);
    await download(blobPaths.export(result.exportId));
  });

  it('writes the PLY in the up axis asked for', async () => {
    const stored = studio.library.scenes.points(sceneId)!;
    for (const [upAxis, expected] of [
      ['opencv', (x: number, y: number, z: number) => [x, y, z]],
      ['y-up', (x: number, y: number, z: number) => [x, -y, -z]],
      ['z-up', (x: number, y: number, z: number) => [x, z, -y]],
    ] as const) {
      const result = await exportPointsJob(studio, { sceneId, format: 'ply', upAxis });
      const bytes = await download(blobPaths.export(result.exportId));
      const dataAt = bytes.indexOf('end_header\n') + 'end_header\n'.length;
      const i = 100; // any point: the helix has no symmetric coordinates there
      const [x, y, z] = [0, 1, 2].map((a) => stored.positions[3 * i + a]);
      const read = [0, 1, 2].map((a) => bytes.readFloatLE(dataAt + i * 15 + a * 4));
      expect(read, upAxis).toEqual(expected(x, y, z));
    }
  });

  it('refuses at once, without a job, a scene with no points; an edit stack that removes every point fails the job', async () => {
    const empty = studio.library.scenes.create(await syntheticScene(2, 0, 'Empty')).id;
    const before = ((await studio.call('jobs.list', {})) as JobInfo[]).length;
    await expect(studio.call('scenes.export', { sceneId: empty, format: 'ply' })).rejects.toMatchObject({
      code: 'not-found',
      message: '"Empty" has no point cloud to export yet.',
    });
    await expect(
      studio.call('scenes.export', { sceneId: 'scn_missing', format: 'glb' }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    expect(((await studio.call('jobs.list', {})) as JobInfo[]).length).toBe(before);

    const cropped = studio.library.scenes.create(await syntheticScene(2, 1_000, 'Cropped away')).id;
    await studio.call('edits.push', {
      sceneId: cropped,
      edit: { kind: 'crop', params: { box: { min: [50, 50, 50], max: [51, 51, 51] } } },
    });
    const { job } = await runExport({ sceneId: cropped, format: 'glb' });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid-input' });
    expect(job.error?.message).toMatch(/removed every point/);
    expect(readdirSync(exportsDir())).toEqual([]);
  });

  it('cancels mid-write and leaves no file, partial or temporary', async () => {
    const { jobId } = (await studio.call('scenes.export', {
      sceneId: bigSceneId,
      format: 'ply',
      encoding: 'ascii',
    })) as { jobId: string };
    // The export folders seen while the file was half-written, when the cancel was asked.
    const duringWrite = await new Promise<string[]>((resolve) => {
      const unsubscribe = studio.subscribe((event) => {
        if (
          event.type === 'job' &&
          event.job.id === jobId &&
          event.job.stage === 'write' &&
          event.job.progress > 0.4
        ) {
          unsubscribe();
          const seen = readdirSync(exportsDir());
          void studio.call('jobs.cancel', { jobId }).then(() => resolve(seen));
        }
      });
    });
    expect(duringWrite).toHaveLength(1);
    const job = await studio.waitForJob(jobId);
    expect(job.status).toBe('cancelled');
    expect(job.result).toBeNull();
    expect(readdirSync(exportsDir())).toEqual([]);
  });
});

describe('the lifetime of export files', () => {
  it('a delivered download deletes the studio’s copy; a read that is not delivered keeps it', async () => {
    const result = await exportPointsJob(studio, { sceneId, format: 'glb' });
    const folder = join(exportsDir(), result.exportId);
    // Opening (as a HEAD or a cut-short download does) deletes nothing.
    const opened = await studio.openBlob(blobPaths.export(result.exportId));
    expect(opened?.bytes).toBe(result.bytes);
    if (opened && !Buffer.isBuffer(opened.body)) opened.body.destroy();
    expect(existsSync(folder)).toBe(true);

    const bytes = await download(blobPaths.export(result.exportId));
    expect(bytes.byteLength).toBe(result.bytes);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('glTF');
    expect(existsSync(folder)).toBe(false);
    expect(await studio.openBlob(blobPaths.export(result.exportId))).toBeNull();
  });

  it('a camera export’s zip goes the same way once downloaded', async () => {
    const { reconstructedFloorScene } = await import('../../../support/reconstructed-scene');
    const floor = await reconstructedFloorScene(studio.library, 'Floor for zip');
    const { jobId } = (await studio.call('scenes.exportCameras', { sceneId: floor, format: 'colmap' })) as {
      jobId: string;
    };
    const job = await studio.waitForJob(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const exportId = String(job.result?.exportId);
    expect(existsSync(join(exportsDir(), exportId))).toBe(true);
    const zip = await download(blobPaths.export(exportId));
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(existsSync(join(exportsDir(), exportId))).toBe(false);
  });

  it('the sweep removes only the studio’s own exports older than the limit, never a link or a stranger’s file', async () => {
    const sweepDir = join(dir, 'sweep-exports');
    mkdirSync(sweepDir);
    const now = Date.now();
    const old = (now - EXPORT_MAX_AGE_MS - 60_000) / 1000;
    const make = (name: string, ageSeconds: number) => {
      mkdirSync(join(sweepDir, name));
      writeFileSync(join(sweepDir, name, 'scene.ply'), 'ply\n');
      utimesSync(join(sweepDir, name), ageSeconds, ageSeconds);
    };
    make('exp_0123456789abcdef', old); // ours, old: goes
    make('exp_fedcba9876543210', now / 1000); // ours, fresh: stays
    make('my-notes', old); // not an export id: stays
    make('exp_NOT-AN-ID', old); // looks close, is not ours: stays
    writeFileSync(join(sweepDir, 'exp_1111111111111111'), 'a file, not an export folder');
    utimesSync(join(sweepDir, 'exp_1111111111111111'), old, old);
    // A link named like an export, pointing at a folder outside: neither is touched.
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'mine');
    symlinkSync(outside, join(sweepDir, 'exp_2222222222222222'));

    const removed = await removeExpiredExports(sweepDir, EXPORT_MAX_AGE_MS, now);
    expect(removed).toEqual(['exp_0123456789abcdef']);
    expect(readdirSync(sweepDir).sort()).toEqual([
      'exp_1111111111111111',
      'exp_2222222222222222',
      'exp_NOT-AN-ID',
      'exp_fedcba9876543210',
      'my-notes',
    ]);
    expect(readdirSync(outside)).toEqual(['keep.txt']);
  });

  it('a studio starting on a library removes the exports nobody downloaded within the limit', async () => {
    const otherLibrary = join(dir, 'lib-restart');
    const first = await createStudio({ libraryPath: otherLibrary, mode: 'web' });
    const id = first.library.scenes.create(await syntheticScene(2, 1_000, 'Left behind')).id;
    const stale = await exportPointsJob(first, { sceneId: id, format: 'ply' });
    const fresh = await exportPointsJob(first, { sceneId: id, format: 'ply' });
    await first.close();
    const staleFolder = join(otherLibrary, 'exports', stale.exportId);
    const longAgo = (Date.now() - EXPORT_MAX_AGE_MS - 60_000) / 1000;
    utimesSync(staleFolder, longAgo, longAgo);

    const second = await createStudio({ libraryPath: otherLibrary, mode: 'web' });
    try {
      await expect.poll(() => existsSync(staleFolder), { timeout: 5_000 }).toBe(false);
      expect(readdirSync(join(otherLibrary, 'exports'))).toEqual([fresh.exportId]);
      // The fresh one is whole.
      const ply = await readPly(join(otherLibrary, 'exports', fresh.exportId, 'Left behind.ply'));
      expect(ply.count).toBe(1_000);
    } finally {
      await second.close();
    }
  });
});
