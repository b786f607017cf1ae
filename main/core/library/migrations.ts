// Versioned schema of the library. Each migration runs once, in its own
// transaction together with the row that records it in `schema_version`, so a
// crash during an upgrade leaves the previous version intact.
//
// Never edit a released migration: add a new one.

import type Database from 'better-sqlite3';
import { newId } from './ids';

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'scenes, sources, frames, jobs',
    up: (db) => {
      db.exec(`
        CREATE TABLE scenes (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('video', 'photos', 'pointcloud')),
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          metres_per_unit REAL
        );
        CREATE TABLE sources (
          scene_id TEXT PRIMARY KEY REFERENCES scenes(id) ON DELETE CASCADE,
          file_name TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          container TEXT,
          codec TEXT,
          coded_width INTEGER,
          coded_height INTEGER,
          width INTEGER,
          height INTEGER,
          rotation INTEGER NOT NULL DEFAULT 0,
          fps REAL,
          duration_s REAL,
          variable_frame_rate INTEGER NOT NULL DEFAULT 0,
          has_audio INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE frames (
          id TEXT PRIMARY KEY,
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          frame_index INTEGER NOT NULL,
          timestamp_s REAL,
          width INTEGER NOT NULL,
          height INTEGER NOT NULL,
          blur_score REAL NOT NULL,
          selected INTEGER NOT NULL,
          file_name TEXT,
          image_mime TEXT NOT NULL,
          image BLOB NOT NULL,
          thumbnail BLOB NOT NULL,
          UNIQUE (scene_id, frame_index)
        );
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          title TEXT NOT NULL,
          scene_id TEXT,
          status TEXT NOT NULL,
          progress REAL NOT NULL DEFAULT 0,
          stage TEXT NOT NULL DEFAULT '',
          message TEXT NOT NULL DEFAULT '',
          error_json TEXT,
          result_json TEXT,
          created_at TEXT NOT NULL,
          finished_at TEXT
        );
        CREATE INDEX jobs_by_scene ON jobs(scene_id, created_at);
      `);
    },
  },
  {
    version: 2,
    description: 'point clouds, reconstructions, cameras, edits, markers, Q&A, models',
    up: (db) => {
      db.exec(`
        -- The scene's current point cloud: float32 xyz little-endian, uint8 rgb.
        CREATE TABLE scene_points (
          scene_id TEXT PRIMARY KEY REFERENCES scenes(id) ON DELETE CASCADE,
          point_count INTEGER NOT NULL,
          positions BLOB NOT NULL,
          colors BLOB,
          min_x REAL, min_y REAL, min_z REAL,
          max_x REAL, max_y REAL, max_z REAL
        );
        CREATE TABLE reconstructions (
          id TEXT PRIMARY KEY,
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          model_id TEXT NOT NULL,
          precision TEXT NOT NULL,
          execution_provider TEXT NOT NULL,
          created_at TEXT NOT NULL,
          frame_count INTEGER NOT NULL,
          map_width INTEGER NOT NULL,
          map_height INTEGER NOT NULL,
          timings_json TEXT NOT NULL,
          -- N x 4 x 4 float32 camera-to-world, row-major
          world_from_camera BLOB NOT NULL,
          -- N x H x W x 3 float32 points in each frame's own camera
          local_point_maps BLOB NOT NULL,
          -- N x H x W x 3 uint8 colours of the images the model saw
          map_colors BLOB
        );
        CREATE INDEX reconstructions_by_scene ON reconstructions(scene_id, created_at);
        CREATE TABLE cameras (
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          frame_index INTEGER NOT NULL,
          frame_id TEXT,
          world_from_camera_json TEXT NOT NULL,
          intrinsics_json TEXT,
          PRIMARY KEY (scene_id, frame_index)
        );
        CREATE TABLE edits (
          id TEXT PRIMARY KEY,
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          kind TEXT NOT NULL,
          params_json TEXT NOT NULL,
          undone INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL
        );
        CREATE INDEX edits_by_scene ON edits(scene_id, seq);
        CREATE TABLE markers (
          id TEXT PRIMARY KEY,
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          color TEXT NOT NULL,
          frame_index INTEGER NOT NULL,
          x REAL NOT NULL,
          y REAL NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE TABLE qa_entries (
          id TEXT PRIMARY KEY,
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          question TEXT NOT NULL,
          answer TEXT NOT NULL,
          markers_json TEXT NOT NULL,
          evidence_json TEXT NOT NULL,
          model_id TEXT NOT NULL,
          precision TEXT NOT NULL,
          execution_provider TEXT NOT NULL,
          timings_json TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX qa_by_scene ON qa_entries(scene_id, created_at);
        CREATE TABLE models (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          path TEXT NOT NULL,
          precision TEXT NOT NULL,
          can_reconstruct INTEGER NOT NULL,
          can_chat INTEGER NOT NULL,
          installed_at TEXT NOT NULL,
          active INTEGER NOT NULL DEFAULT 0
        );
      `);
    },
  },
  {
    version: 3,
    description: 'scene thumbnail frame and point count on the scene row for fast listing',
    up: (db) => {
      db.exec(`
        ALTER TABLE scenes ADD COLUMN thumbnail_frame_id TEXT;
        ALTER TABLE scenes ADD COLUMN point_count INTEGER NOT NULL DEFAULT 0;
        UPDATE scenes SET point_count = COALESCE((SELECT point_count FROM scene_points p WHERE p.scene_id = scenes.id), 0);
        UPDATE scenes SET thumbnail_frame_id = (
          SELECT f.id FROM frames f WHERE f.scene_id = scenes.id ORDER BY f.frame_index LIMIT 1
        );
      `);
    },
  },
  {
    version: 4,
    description: 'owner process of each job, so one process does not fail the running jobs of another',
    up: (db) => {
      db.exec(`
        ALTER TABLE jobs ADD COLUMN owner_pid INTEGER;
        ALTER TABLE jobs ADD COLUMN owner_instance TEXT;
      `);
    },
  },
  {
    version: 5,
    description: 'ground alignment (levelling transform) per scene',
    up: (db) => {
      db.exec(`ALTER TABLE scenes ADD COLUMN ground_alignment_json TEXT;`);
    },
  },
  {
    version: 6,
    description: 'point arrays larger than one SQLite blob (1 GB) stored in ordered chunks',
    up: (db) => {
      // A chunked array leaves its scene_points column empty (positions X'',
      // colors NULL) and counts its chunks here; small clouds stay inline.
      db.exec(`
        ALTER TABLE scene_points ADD COLUMN positions_chunks INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE scene_points ADD COLUMN colors_chunks INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE scene_point_chunks (
          scene_id TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
          array_name TEXT NOT NULL CHECK (array_name IN ('positions', 'colors')),
          chunk_index INTEGER NOT NULL,
          bytes BLOB NOT NULL,
          PRIMARY KEY (scene_id, array_name, chunk_index)
        );
      `);
    },
  },
  {
    version: 7,
    description: 'scale and levelling move onto the edit stack (one undo history)',
    up: (db) => {
      // Each scene's stored scale and levelling become the first edits of its
      // stack (scale, then ground), below the edits it has, so nothing on the
      // stack or its redo list changes order; undoing every edit ends unscaled
      // and unlevelled. The scene's value is then the newest active edit of
      // each kind (scene-store.ts), and the two columns go.
      const scenes = db
        .prepare(
          'SELECT id, updated_at, metres_per_unit, ground_alignment_json FROM scenes WHERE metres_per_unit IS NOT NULL OR ground_alignment_json IS NOT NULL',
        )
        .all() as Array<{
        id: string;
        updated_at: string;
        metres_per_unit: number | null;
        ground_alignment_json: string | null;
      }>;
      const shift = db.prepare('UPDATE edits SET seq = seq + ? WHERE scene_id = ?');
      const insert = db.prepare(
        'INSERT INTO edits (id, scene_id, seq, kind, params_json, undone, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      );
      for (const scene of scenes) {
        const settings: Array<{ kind: string; params: Record<string, unknown> }> = [];
        if (scene.metres_per_unit !== null && scene.metres_per_unit > 0) {
          settings.push({ kind: 'scale', params: { metresPerUnit: scene.metres_per_unit } });
        }
        const alignment = levellingOf(scene.ground_alignment_json);
        if (alignment) settings.push({ kind: 'ground', params: { levelledFromScene: alignment } });
        if (settings.length === 0) continue;
        shift.run(settings.length, scene.id);
        settings.forEach((setting, n) =>
          insert.run(
            newId('edt'),
            scene.id,
            n + 1,
            setting.kind,
            JSON.stringify(setting.params),
            scene.updated_at,
          ),
        );
      }
      db.exec(`
        ALTER TABLE scenes DROP COLUMN metres_per_unit;
        ALTER TABLE scenes DROP COLUMN ground_alignment_json;
      `);
    },
  },
  {
    version: 8,
    description: 'measured speed of each model stage on this machine, for progress and time left',
    up: (db) => {
      // One row per model, provider and stage: milliseconds per GFLOP of the
      // stage's estimated work (main/model/runtime/stage-work.ts), a running
      // average over the runs so far. Gone with the model.
      db.exec(`
        CREATE TABLE stage_rates (
          model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
          provider TEXT NOT NULL,
          stage TEXT NOT NULL,
          ms_per_gflop REAL NOT NULL CHECK (ms_per_gflop > 0),
          samples INTEGER NOT NULL CHECK (samples > 0),
          updated_at TEXT NOT NULL,
          PRIMARY KEY (model_id, provider, stage)
        );
      `);
    },
  },
];

/** A stored levelling as 16 finite numbers, or null when absent or unreadable. */
function levellingOf(json: string | null): number[] | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) && value.length === 16 && value.every((v) => Number.isFinite(v))
      ? (value as number[])
      : null;
  } catch {
    return null;
  }
}

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1].version;

export function currentSchemaVersion(db: Database.Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/**
 * Bring the database up to `target` (default: latest). Returns the versions
 * applied. A database newer than this build is refused rather than guessed at.
 */
export function migrate(db: Database.Database, target: number = LATEST_SCHEMA_VERSION): number[] {
  const current = currentSchemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new NewerLibraryError(current);
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      migration.up(db);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}

export class NewerLibraryError extends Error {
  constructor(readonly version: number) {
    super(`library schema version ${version} is newer than this build supports (${LATEST_SCHEMA_VERSION})`);
  }
}
