// Registered (converted) models. Exactly one is active: the one reconstruct
// and Q&A use when no model id is given.

import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../common/domain';

interface ModelRow {
  id: string;
  name: string;
  path: string;
  precision: string;
  can_reconstruct: number;
  can_chat: number;
  installed_at: string;
  active: number;
}

function toModel(row: ModelRow): ModelInfo {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    precision: row.precision,
    capabilities: { reconstruct: row.can_reconstruct === 1, chat: row.can_chat === 1 },
    installedAt: row.installed_at,
    active: row.active === 1,
  };
}

export class ModelStore {
  constructor(private readonly db: Database.Database) {}

  /** Insert or replace the model and make it the active one. */
  registerActive(model: Omit<ModelInfo, 'active'>): ModelInfo {
    return this.register(model, { activate: true });
  }

  /**
   * Insert or replace the model. It becomes active when asked, or when no model
   * is active yet (so a library with models always has an active one).
   */
  register(model: Omit<ModelInfo, 'active'>, opts: { activate: boolean }): ModelInfo {
    this.db
      .transaction(() => {
        const activate = opts.activate || this.active() === null || this.active()?.id === model.id;
        if (activate) this.db.prepare('UPDATE models SET active = 0').run();
        this.db
          .prepare(
            `INSERT INTO models (id, name, path, precision, can_reconstruct, can_chat, installed_at, active)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, path = excluded.path, precision = excluded.precision,
             can_reconstruct = excluded.can_reconstruct, can_chat = excluded.can_chat,
             installed_at = excluded.installed_at, active = excluded.active`,
          )
          .run(
            model.id,
            model.name,
            model.path,
            model.precision,
            model.capabilities.reconstruct ? 1 : 0,
            model.capabilities.chat ? 1 : 0,
            model.installedAt,
            activate ? 1 : 0,
          );
      })
      .immediate();
    const stored = this.get(model.id);
    if (!stored) throw new Error('model vanished right after it was registered');
    return stored;
  }

  /** Make a registered model the active one; false when there is no such model. */
  activate(modelId: string): boolean {
    return this.db
      .transaction(() => {
        if (!this.get(modelId)) return false;
        this.db.prepare('UPDATE models SET active = (id = ?)').run(modelId);
        return true;
      })
      .immediate();
  }

  /**
   * Delete a model's row. When it was the active one, the most recently
   * installed of the others becomes active. Returns the active model afterwards.
   */
  remove(modelId: string): ModelInfo | null {
    this.db
      .transaction(() => {
        const wasActive = this.get(modelId)?.active === true;
        this.db.prepare('DELETE FROM models WHERE id = ?').run(modelId);
        if (wasActive) {
          this.db
            .prepare(
              `UPDATE models SET active = 1
               WHERE id = (SELECT id FROM models ORDER BY installed_at DESC, id LIMIT 1)`,
            )
            .run();
        }
      })
      .immediate();
    return this.active();
  }

  get(modelId: string): ModelInfo | null {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(modelId) as ModelRow | undefined;
    return row ? toModel(row) : null;
  }

  findByPath(path: string): ModelInfo | null {
    const row = this.db.prepare('SELECT * FROM models WHERE path = ?').get(path) as ModelRow | undefined;
    return row ? toModel(row) : null;
  }

  active(): ModelInfo | null {
    const row = this.db.prepare('SELECT * FROM models WHERE active = 1 LIMIT 1').get() as
      ModelRow | undefined;
    return row ? toModel(row) : null;
  }

  list(): ModelInfo[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY installed_at DESC').all() as ModelRow[]).map(
      toModel,
    );
  }
}
