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
    this.db
      .transaction(() => {
        this.db.prepare('UPDATE models SET active = 0').run();
        this.db
          .prepare(
            `INSERT INTO models (id, name, path, precision, can_reconstruct, can_chat, installed_at, active)
           VALUES (?, ?, ?, ?, ?, ?, ?, 1)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, path = excluded.path, precision = excluded.precision,
             can_reconstruct = excluded.can_reconstruct, can_chat = excluded.can_chat,
             installed_at = excluded.installed_at, active = 1`,
          )
          .run(
            model.id,
            model.name,
            model.path,
            model.precision,
            model.capabilities.reconstruct ? 1 : 0,
            model.capabilities.chat ? 1 : 0,
            model.installedAt,
          );
      })
      .immediate();
    const stored = this.get(model.id);
    if (!stored) throw new Error('model vanished right after it was registered');
    return stored;
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
