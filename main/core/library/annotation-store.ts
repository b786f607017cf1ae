// Per-scene annotations: coloured markers the user placed on frames, and the
// non-destructive edit stack (crop, delete, downsample…) with undo/redo. The
// stored point cloud is never changed by an edit; a view applies the active
// edits in order.

import type Database from 'better-sqlite3';
import type { Marker } from '../../common/domain';
import { newId, nowIso } from './ids';

export interface StoredMarker extends Marker {
  id: string;
  sceneId: string;
  createdAt: string;
}

export interface SceneEdit {
  id: string;
  sceneId: string;
  /** Position in the scene's edit stack, 1-based. */
  seq: number;
  /** e.g. 'crop-box', 'delete-lasso', 'voxel-downsample' (the operation's own name). */
  kind: string;
  params: Record<string, unknown>;
  undone: boolean;
  createdAt: string;
}

interface EditRow {
  id: string;
  scene_id: string;
  seq: number;
  kind: string;
  params_json: string;
  undone: number;
  created_at: string;
}

const toEdit = (row: EditRow): SceneEdit => ({
  id: row.id,
  sceneId: row.scene_id,
  seq: row.seq,
  kind: row.kind,
  params: JSON.parse(row.params_json) as Record<string, unknown>,
  undone: row.undone === 1,
  createdAt: row.created_at,
});

export class AnnotationStore {
  constructor(private readonly db: Database.Database) {}

  addMarker(sceneId: string, marker: Marker): StoredMarker {
    const stored: StoredMarker = { ...marker, id: newId('mrk'), sceneId, createdAt: nowIso() };
    this.db
      .prepare(
        'INSERT INTO markers (id, scene_id, color, frame_index, x, y, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(stored.id, sceneId, marker.color, marker.frameIndex, marker.x, marker.y, stored.createdAt);
    return stored;
  }

  markers(sceneId: string): StoredMarker[] {
    const rows = this.db
      .prepare('SELECT * FROM markers WHERE scene_id = ? ORDER BY created_at, rowid')
      .all(sceneId) as Array<{
      id: string;
      scene_id: string;
      color: Marker['color'];
      frame_index: number;
      x: number;
      y: number;
      created_at: string;
    }>;
    return rows.map((r) => ({
      id: r.id,
      sceneId: r.scene_id,
      color: r.color,
      frameIndex: r.frame_index,
      x: r.x,
      y: r.y,
      createdAt: r.created_at,
    }));
  }

  removeMarker(markerId: string): boolean {
    return this.db.prepare('DELETE FROM markers WHERE id = ?').run(markerId).changes > 0;
  }

  /** Push an edit; like any editor, a new edit discards what was undone after it. */
  pushEdit(sceneId: string, kind: string, params: Record<string, unknown>): SceneEdit {
    const id = newId('edt');
    const createdAt = nowIso();
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM edits WHERE scene_id = ? AND undone = 1').run(sceneId);
        const { next } = this.db
          .prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM edits WHERE scene_id = ?')
          .get(sceneId) as { next: number };
        this.db
          .prepare(
            'INSERT INTO edits (id, scene_id, seq, kind, params_json, undone, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
          )
          .run(id, sceneId, next, kind, JSON.stringify(params), createdAt);
      })
      .immediate();
    const row = this.db.prepare('SELECT * FROM edits WHERE id = ?').get(id) as EditRow;
    return toEdit(row);
  }

  /** The edits in stack order; undone ones only when asked. */
  edits(sceneId: string, options: { includeUndone?: boolean } = {}): SceneEdit[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM edits WHERE scene_id = ? ${options.includeUndone ? '' : 'AND undone = 0'} ORDER BY seq`,
      )
      .all(sceneId) as EditRow[];
    return rows.map(toEdit);
  }

  /** Undo the newest active edit; null when there is nothing to undo. */
  undo(sceneId: string): SceneEdit | null {
    const row = this.db
      .prepare('SELECT * FROM edits WHERE scene_id = ? AND undone = 0 ORDER BY seq DESC LIMIT 1')
      .get(sceneId) as EditRow | undefined;
    if (!row) return null;
    this.db.prepare('UPDATE edits SET undone = 1 WHERE id = ?').run(row.id);
    return { ...toEdit(row), undone: true };
  }

  /** Redo the oldest undone edit; null when there is nothing to redo. */
  redo(sceneId: string): SceneEdit | null {
    const row = this.db
      .prepare('SELECT * FROM edits WHERE scene_id = ? AND undone = 1 ORDER BY seq LIMIT 1')
      .get(sceneId) as EditRow | undefined;
    if (!row) return null;
    this.db.prepare('UPDATE edits SET undone = 0 WHERE id = ?').run(row.id);
    return { ...toEdit(row), undone: false };
  }
}
