// Library benchmark: a 10M-point scene (120 MB float32 positions + 30 MB uint8
// colours) saved to and loaded from the SQLite library, against writing and
// reading the same bytes as plain files on the same disk (the floor any
// storage scheme pays).

import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library } from '../core/library/library';
import type { ScenePoints } from '../core/library/scene-store';
import type { BenchSection } from './bench-types';

const POINTS = 10_000_000;

function syntheticCloud(count: number): ScenePoints {
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  for (let i = 0; i < count * 3; i++) {
    positions[i] = Math.sin(i * 0.001) * 5;
    colors[i] = i & 255;
  }
  return { positions, colors, count };
}

function timeMs<T>(fn: () => T): { ms: number; value: T } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const mib = (bytes: number): number => bytes / 2 ** 20;

export async function runLibraryBench(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'g2-library-bench-'));
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    const cloud = syntheticCloud(POINTS);
    const payload = cloud.positions.byteLength + (cloud.colors?.byteLength ?? 0);

    // Baseline: the same bytes as two files, fsynced.
    const rawWrite = timeMs(() => {
      writeDurably(join(dir, 'points.f32'), new Uint8Array(cloud.positions.buffer));
      writeDurably(join(dir, 'colors.u8'), cloud.colors ?? new Uint8Array(0));
    });
    const rawRead = timeMs(
      () =>
        readFileSync(join(dir, 'points.f32')).byteLength + readFileSync(join(dir, 'colors.u8')).byteLength,
    );

    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const library = Library.open(join(dir, 'lib'));
    const save = timeMs(() =>
      library.scenes.create({
        name: 'bench 10M',
        kind: 'pointcloud',
        source: null,
        frames: [],
        points: cloud,
      }),
    );
    const rssAfterSave = process.memoryUsage().rss;
    // A checkpoint moves the WAL into the main file: part of what a save costs eventually.
    const checkpoint = timeMs(() => library.db.pragma('wal_checkpoint(TRUNCATE)'));
    const sceneId = save.value.id;
    library.close();

    gc?.();
    const reopened = Library.open(join(dir, 'lib'));
    const load = timeMs(() => reopened.scenes.points(sceneId));
    const loaded = load.value;
    if (!loaded || loaded.count !== POINTS) throw new Error('the 10M-point scene did not load back');
    for (const i of [0, 12_345, POINTS * 3 - 1]) {
      if (loaded.positions[i] !== cloud.positions[i])
        throw new Error(`position ${i} differs after the round trip`);
    }
    const blobRead = timeMs(
      () =>
        (reopened.scenes.positionsBytes(sceneId)?.byteLength ?? 0) +
        (reopened.scenes.colorsBytes(sceneId)?.byteLength ?? 0),
    );
    const dbBytes = statSync(reopened.location.dbFile).size;
    reopened.close();

    return {
      name: 'library',
      figures: [
        {
          label: 'save 10M-point scene (one transaction)',
          value: save.ms,
          unit: 'ms',
          baseline: { label: 'write + fsync the same bytes as files', value: rawWrite.ms },
          ratio: save.ms / rawWrite.ms,
        },
        { label: 'WAL checkpoint after the save', value: checkpoint.ms, unit: 'ms' },
        {
          label: 'load 10M-point scene (reopened library)',
          value: load.ms,
          unit: 'ms',
          baseline: { label: 'read the same bytes from files', value: rawRead.ms },
          ratio: load.ms / rawRead.ms,
        },
        { label: 'serve points.f32 + colors.u8 blobs', value: blobRead.ms, unit: 'ms' },
        { label: 'save throughput', value: mib(payload) / (save.ms / 1000), unit: 'MiB/s' },
        { label: 'RSS growth during save', value: mib(rssAfterSave - rssBefore), unit: 'MiB' },
        {
          label: 'library file size',
          value: mib(dbBytes),
          unit: 'MiB',
          baseline: { label: 'payload', value: mib(payload) },
          ratio: dbBytes / payload,
        },
      ],
      notes: [
        `${POINTS.toLocaleString('en')} points: ${mib(cloud.positions.byteLength).toFixed(0)} MiB positions + ${mib(cloud.colors?.byteLength ?? 0).toFixed(0)} MiB colours, stored as BLOBs in one transaction (WAL, synchronous=NORMAL).`,
        'Loaded arrays are Float32Array views over the Buffer SQLite returns (no second copy).',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
