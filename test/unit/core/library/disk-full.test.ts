// A full disk is a typed `disk-full` error with a fix on every path that
// writes (library import into SQLite, PLY/GLB export), never SQLITE_FULL or
// `internal`, and the library stays intact. The library lives on a real
// tmpfs of a few MB that a filler file fills up.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../../main/common/domain';
import { toStudioErrorInfo } from '../../../../main/common/errors';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { statusForError } from '../../../../main/server/http-io';
import { exportPointsJob } from '../../../support/export-job';
import { syntheticPoints, tempDir } from '../../../support/library-fixtures';
import { writeBinaryPly } from '../../../support/ply-fixture';

const { dir, cleanup } = tempDir('g2-disk-full-');
const mountPoint = join(dir, 'small-disk');
mkdirSync(mountPoint);
// Mounting needs root (or CAP_SYS_ADMIN); CI containers without it skip with this reason.
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]).status === 0;
const skipReason = 'cannot mount a small tmpfs here (needs root/CAP_SYS_ADMIN)';

let studio: Studio;
const filler = join(mountPoint, 'filler.bin');

/** Fill the small disk until only `leaveBytes` are free. */
function fillDisk(leaveBytes: number): void {
  const stats = statfsSync(mountPoint);
  const free = stats.bavail * stats.bsize;
  writeFileSync(filler, Buffer.alloc(Math.max(0, free - leaveBytes)));
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(!mounted)(`disk full (${mounted ? 'tmpfs 4 MB' : skipReason})`, () => {
  let sceneId: string;
  let smallPly: string;
  let bigPly: string;

  beforeAll(async () => {
    smallPly = join(dir, 'small.ply');
    bigPly = join(dir, 'big.ply');
    const small = syntheticPoints(20_000);
    writeBinaryPly(smallPly, small.positions, small.colors);
    const big = syntheticPoints(200_000);
    writeBinaryPly(bigPly, big.positions, big.colors);
    studio = await createStudio({ libraryPath: join(mountPoint, 'lib'), mode: 'cli' });
    const { jobId } = (await studio.call('scenes.import', {
      sources: [{ kind: 'path', path: smallPly }],
    })) as {
      jobId: string;
    };
    const job = await studio.waitForJob(jobId);
    expect(job.status).toBe('succeeded');
    sceneId = job.result?.sceneId as string;
  });

  afterAll(async () => {
    await studio?.close();
    spawnSync('umount', [mountPoint]);
    cleanup();
  });

  it('an export that runs out of space is disk-full with a fix (HTTP 507), and leaves no file', async () => {
    fillDisk(64 * 1024);
    for (const [format, encoding] of [
      ['ply', 'ascii'],
      ['glb', undefined],
    ] as const) {
      const info = toStudioErrorInfo(await errorOf(exportPointsJob(studio, { sceneId, format, encoding })));
      expect(info.code, format).toBe('disk-full');
      expect(info.fix.length, format).toBeGreaterThan(0);
      expect(statusForError(info.code)).toBe(507);
    }
    expect(readdirSync(join(mountPoint, 'lib', 'exports'))).toEqual([]);
    rmSync(filler);
  });

  it('an import that cannot fit in the library is disk-full with a fix, and the library is unchanged', async () => {
    fillDisk(256 * 1024);
    const before = (await studio.call('scenes.list', {})) as unknown[];
    const { jobId } = (await studio.call('scenes.import', { sources: [{ kind: 'path', path: bigPly }] })) as {
      jobId: string;
    };
    const job: JobInfo = await studio.waitForJob(jobId);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('disk-full');
    expect(job.error?.fix.length).toBeGreaterThan(0);
    rmSync(filler);
    expect(await studio.call('scenes.list', {})).toEqual(before);
    expect(studio.library.integrityCheck()).toBe('ok');
  });
});
