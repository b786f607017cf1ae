// Point clouds larger than one SQLite blob (1 GB) are stored in ordered
// chunks: whole, atomically, and read back byte for byte. Most cases inject a
// small chunk size so they run in milliseconds; one real case crosses the
// 1 GB limit, which failed with "The bound string, buffer, or bigint is too big".
import { afterEach, describe, expect, it } from 'vitest';
import { chunksOf, joinChunks } from '../../../../main/core/library/blob-arrays';
import { Library } from '../../../../main/core/library/library';
import { LATEST_SCHEMA_VERSION } from '../../../../main/core/library/migrations';
import { assertStorablePointCount, maxScenePoints } from '../../../../main/core/library/point-capacity';
import { syntheticPoints, syntheticScene, tempDir } from '../../../support/library-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});
function freshLibraryDir(): string {
  const { dir, cleanup } = tempDir('g2-chunks-');
  cleanups.push(cleanup);
  return dir;
}
const chunkRows = (library: Library, sceneId: string) =>
  (
    library.db.prepare('SELECT COUNT(*) AS n FROM scene_point_chunks WHERE scene_id = ?').get(sceneId) as {
      n: number;
    }
  ).n;

describe('chunked point storage', () => {
  it('splits and joins without losing or adding a byte', () => {
    const bytes = new Uint8Array(1003).map((_, i) => i % 251);
    const chunks = chunksOf(bytes, 100);
    expect(chunks.map((c) => c.byteLength)).toEqual([...Array(10).fill(100), 3]);
    expect(Buffer.compare(joinChunks(chunks, 1003), Buffer.from(bytes))).toBe(0);
    expect(() => joinChunks(chunks, 1002)).toThrow(/more than/);
    expect(() => joinChunks(chunks, 1004)).toThrow(/1003 bytes, expected 1004/);
  });

  it('stores a cloud larger than a chunk in chunks and reads it back whole after a reopen', async () => {
    const dir = freshLibraryDir();
    const points = syntheticPoints(10_000);
    const library = Library.open(dir, { chunkBytes: 4096 });
    const scene = library.scenes.create(await syntheticScene(1, 0));
    library.scenes.replacePoints(scene.id, points);
    expect(chunkRows(library, scene.id)).toBe(Math.ceil(120_000 / 4096) + Math.ceil(30_000 / 4096));
    library.close();

    // Any chunk size reads what another wrote.
    const reopened = Library.open(dir);
    expect(reopened.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    const back = reopened.scenes.points(scene.id);
    expect(back?.count).toBe(10_000);
    expect(reopened.scenes.summary(scene.id)?.pointCount).toBe(10_000);
    expect(Buffer.compare(Buffer.from(back!.positions.buffer), Buffer.from(points.positions.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(back!.colors!), Buffer.from(points.colors!))).toBe(0);
    expect(reopened.scenes.positionsBytes(scene.id)?.byteLength).toBe(120_000);
    expect(reopened.scenes.colorsBytes(scene.id)?.byteLength).toBe(30_000);

    // A small cloud replacing it is inline again, and no chunk outlives its scene.
    reopened.scenes.replacePoints(scene.id, syntheticPoints(100));
    expect(chunkRows(reopened, scene.id)).toBe(0);
    expect(reopened.scenes.points(scene.id)?.positions.length).toBe(300);
    reopened.close();
    const again = Library.open(dir, { chunkBytes: 1000 });
    again.scenes.replacePoints(scene.id, points);
    expect(chunkRows(again, scene.id)).toBeGreaterThan(0);
    again.scenes.delete(scene.id);
    expect(chunkRows(again, scene.id)).toBe(0);
    expect(again.integrityCheck()).toBe('ok');
    again.close();
  });

  it('refuses a cloud above what this machine can hold, before writing anything', async () => {
    // 200 M points must fit on a 24 GiB machine; the 4 GiB Buffer limit caps every machine.
    expect(maxScenePoints(24 * 2 ** 30)).toBeGreaterThanOrEqual(200_000_000);
    expect(maxScenePoints(2 ** 50)).toBeLessThanOrEqual(Math.floor(2 ** 32 / 12));
    const limit = maxScenePoints();
    expect(() => assertStorablePointCount(limit)).not.toThrow();
    expect(() => assertStorablePointCount(limit + 1)).toThrow(
      expect.objectContaining({ code: 'insufficient-memory', fix: expect.stringContaining('Thin it') }),
    );
  });

  it('stores, reopens and reads back a real cloud past the 1 GB blob limit (85 M points)', async () => {
    const dir = freshLibraryDir();
    const count = 85_000_000; // 1.02 GB of float32 xyz: over SQLite's 1e9-byte limit
    const positions = new Float32Array(count * 3);
    for (let i = 0; i < positions.length; i += 3) {
      positions[i] = i;
      positions[i + 1] = -i;
      positions[i + 2] = i % 1000;
    }
    const library = Library.open(dir);
    const scene = library.scenes.create({
      ...(await syntheticScene(1, 0)),
      points: { positions, colors: null, count },
    });
    library.close();
    const reopened = Library.open(dir);
    expect(reopened.scenes.summary(scene.id)?.pointCount).toBe(count);
    const back = reopened.scenes.positionsBytes(scene.id);
    expect(back?.byteLength).toBe(count * 12);
    expect(Buffer.compare(back!, Buffer.from(positions.buffer))).toBe(0);
    reopened.close();
  }, 180_000);
});
