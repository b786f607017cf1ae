// Opening the library's SQLite file: WAL so readers never block the writer and
// a killed process leaves either the old or the new state, foreign keys so a
// deleted scene takes its frames/points/history with it, and the versioned
// migrations.

import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { StudioError } from '../../common/errors';
import { ensureDir } from '../../base/ensure-dir';
import { migrate, NewerLibraryError } from './migrations';

export function openDatabase(dbFile: string, options: { migrateTo?: number } = {}): Database.Database {
  try {
    ensureDir(dirname(dbFile));
  } catch (error) {
    throw new StudioError(
      'unreadable-path',
      `Cannot create the library folder ${dirname(dbFile)}.`,
      'Choose a library folder you can write to with --library PATH or G2STUDIO_LIBRARY.',
      { cause: error },
    );
  }
  let db: Database.Database;
  try {
    db = new Database(dbFile);
    // 16 KiB pages (set before the first table; ignored for an existing file):
    // point clouds are 100+ MB BLOBs stored as overflow-page chains, and 4x
    // fewer pages write measurably faster than the 4 KiB default
    // (main/bench/library-bench.ts: 10M points ~1.5 s vs ~1.8 s here).
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    // NORMAL is durable against process crashes in WAL mode (only an OS crash
    // can lose the last commits), and much faster for the large blobs.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Another process (the app and the CLI on one library) may hold the write
    // lock for a few seconds while it stores a big scene.
    db.pragma('busy_timeout = 30000');
  } catch (error) {
    throw new StudioError(
      'unreadable-path',
      `Cannot open the library ${dbFile}: ${(error as Error).message}.`,
      'Check the file is a G2 Studio library you can write to, or choose another with --library PATH.',
      { cause: error },
    );
  }
  try {
    migrate(db, options.migrateTo);
  } catch (error) {
    db.close();
    if (error instanceof NewerLibraryError) {
      throw new StudioError(
        'invalid-input',
        `The library ${dbFile} was written by a newer G2 Studio (schema ${error.version}).`,
        'Update G2 Studio, or open another library with --library PATH.',
      );
    }
    throw new StudioError(
      'internal',
      `Cannot upgrade the library ${dbFile}: ${(error as Error).message}.`,
      'Back up the library file and report the problem.',
      { cause: error },
    );
  }
  return db;
}
