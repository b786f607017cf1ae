// The stage_rates table: how fast each long stage of a model ran on this
// machine, per execution provider, as milliseconds per GFLOP of the stage's
// estimated work. A reconstruction hands these to the engine, which turns them
// into the bar's movement inside a stage and the time left; its measurements
// come back and are folded in here.

import type Database from 'better-sqlite3';
import type { StageMeasurement, StageRate } from '../../model';
import { nowIso } from './ids';

/**
 * Weight of a new run in the running average: recent runs count most (the
 * machine's load changes), one odd run moves the estimate only half way.
 */
const NEW_RUN_WEIGHT = 0.5;

/** Stages shorter than this are noise (timer resolution, warm-up), not a rate. */
const MIN_MEASURED_MS = 1;

export class StageRateStore {
  constructor(private readonly db: Database.Database) {}

  /** Every measured stage rate of a model (all providers). */
  list(modelId: string): StageRate[] {
    const rows = this.db
      .prepare(
        'SELECT provider, stage, ms_per_gflop FROM stage_rates WHERE model_id = ? ORDER BY provider, stage',
      )
      .all(modelId) as Array<{ provider: string; stage: string; ms_per_gflop: number }>;
    return rows.map((r) => ({ provider: r.provider, stage: r.stage, msPerGflop: r.ms_per_gflop }));
  }

  /** Folds one run's measured stages (on `provider`) into the model's rates; unusable ones are skipped. */
  record(modelId: string, provider: string, measurements: readonly StageMeasurement[]): void {
    const read = this.db.prepare(
      'SELECT ms_per_gflop, samples FROM stage_rates WHERE model_id = ? AND provider = ? AND stage = ?',
    );
    const write = this.db.prepare(
      `INSERT INTO stage_rates (model_id, provider, stage, ms_per_gflop, samples, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(model_id, provider, stage) DO UPDATE SET
         ms_per_gflop = excluded.ms_per_gflop, samples = excluded.samples, updated_at = excluded.updated_at`,
    );
    this.db.transaction(() => {
      for (const m of measurements) {
        if (!(m.gflop > 0) || !(m.ms >= MIN_MEASURED_MS) || !Number.isFinite(m.ms / m.gflop)) continue;
        const sample = m.ms / m.gflop;
        const old = read.get(modelId, provider, m.stage) as
          { ms_per_gflop: number; samples: number } | undefined;
        const rate = old ? old.ms_per_gflop + NEW_RUN_WEIGHT * (sample - old.ms_per_gflop) : sample;
        write.run(modelId, provider, m.stage, rate, (old?.samples ?? 0) + 1, nowIso());
      }
    })();
  }
}
