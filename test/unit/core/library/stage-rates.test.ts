// The stage_rates table through the real library SQLite file: measured stage
// speeds round-trip across a reopen, fold in as a running average, skip
// unusable measurements, stay per model and provider, go with their model,
// and a library of schema 7 gains the table on open.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Library } from '../../../../main/core/library/library';
import { migrate } from '../../../../main/core/library/migrations';
import { libraryLocation } from '../../../../main/core/settings';
import { tempDir } from '../../../support/library-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function freshDir(): string {
  const { dir, cleanup } = tempDir('g2-rates-');
  cleanups.push(cleanup);
  return dir;
}

const model = (id: string) => ({
  id,
  name: id,
  path: `/models/${id}`,
  precision: 'int8',
  capabilities: { reconstruct: true, chat: true },
  installedAt: '2026-12-06T00:00:00.000Z',
});

describe('stage rates in the library', () => {
  it('round-trips measured rates through a reopened SQLite file, averaging runs per model and provider', () => {
    const dir = freshDir();
    const library = Library.open(dir);
    library.models.registerActive(model('g2vlm-2b-int8'));
    library.models.register(model('g2vlm-2b-fp32'), { activate: false });
    expect(library.stageRates.list('g2vlm-2b-int8')).toEqual([]);
    library.stageRates.record('g2vlm-2b-int8', 'cpu', [
      { stage: 'dino', gflop: 400, ms: 16_000 }, // 40 ms/GFLOP
      { stage: 'geometry-prefill', gflop: 2000, ms: 55_000 }, // 27.5
      { stage: 'decoders', gflop: 0, ms: 10 }, // no work: not a rate
      { stage: 'heads', gflop: 1, ms: Number.NaN }, // not a time
    ]);
    library.stageRates.record('g2vlm-2b-int8', 'webgpu+cpu', [{ stage: 'dino', gflop: 400, ms: 800 }]);
    library.stageRates.record('g2vlm-2b-fp32', 'cpu', [{ stage: 'dino', gflop: 400, ms: 40_000 }]);
    library.close();

    const reopened = Library.open(dir);
    try {
      expect(reopened.stageRates.list('g2vlm-2b-int8')).toEqual([
        { provider: 'cpu', stage: 'dino', msPerGflop: 40 },
        { provider: 'cpu', stage: 'geometry-prefill', msPerGflop: 27.5 },
        { provider: 'webgpu+cpu', stage: 'dino', msPerGflop: 2 },
      ]);
      // A second run of DINO at 60 ms/GFLOP moves the rate half way.
      reopened.stageRates.record('g2vlm-2b-int8', 'cpu', [{ stage: 'dino', gflop: 100, ms: 6000 }]);
      expect(reopened.stageRates.list('g2vlm-2b-int8')[0]).toEqual({
        provider: 'cpu',
        stage: 'dino',
        msPerGflop: 50,
      });
      const samples = reopened.db
        .prepare(
          "SELECT samples FROM stage_rates WHERE model_id = 'g2vlm-2b-int8' AND provider = 'cpu' AND stage = 'dino'",
        )
        .pluck()
        .get();
      expect(samples).toBe(2);
      expect(reopened.stageRates.list('g2vlm-2b-fp32')).toEqual([
        { provider: 'cpu', stage: 'dino', msPerGflop: 100 },
      ]);
      // Removing a model removes its rates (a model converted again starts afresh).
      reopened.models.remove('g2vlm-2b-fp32');
      expect(reopened.stageRates.list('g2vlm-2b-fp32')).toEqual([]);
      // A rate for a model the library does not know is refused by the database.
      expect(() =>
        reopened.stageRates.record('nope', 'cpu', [{ stage: 'dino', gflop: 1, ms: 10 }]),
      ).toThrow();
      expect(reopened.integrityCheck()).toBe('ok');
    } finally {
      reopened.close();
    }
  });

  it('adds the table when it opens a library of schema 7', () => {
    const dir = freshDir();
    const old = new Database(libraryLocation(dir).dbFile); // the folder exists (tempDir)
    migrate(old, 7);
    old.close();
    const library = Library.open(dir);
    try {
      library.models.registerActive(model('m'));
      library.stageRates.record('m', 'cpu', [{ stage: 'dino', gflop: 2, ms: 10 }]);
      expect(library.stageRates.list('m')).toEqual([{ provider: 'cpu', stage: 'dino', msPerGflop: 5 }]);
    } finally {
      library.close();
    }
  });
});
