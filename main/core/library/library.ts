// The studio's library: one SQLite file (WAL) beside an uploads/ and an
// exports/ folder. Everything needed to reopen a scene offline is in the
// database; the folders only hold files in transit.

import type Database from 'better-sqlite3';
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTemporaryFiles } from '../pointcloud/atomic-file';
import { libraryLocation, type LibraryLocation } from '../settings';
import { AnnotationStore } from './annotation-store';
import { openDatabase } from './database';
import { ensureDir } from '../../base/ensure-dir';
import { JobStore, THIS_PROCESS, type JobOwner } from './job-store';
import { currentSchemaVersion } from './migrations';
import { ModelStore } from './model-store';
import { QaStore } from './qa-store';
import { SceneStore, type SceneStoreOptions } from './scene-store';
import { StageRateStore } from './stage-rate-store';

/**
 * An export killed mid-write leaves its temporary file (hundreds of MB) in
 * exports/<id>/; remove those of dead processes, and the folder when nothing
 * else is in it, instead of waiting for the 24 h sweep.
 */
function removeKilledExports(exportsRoot: string): void {
  let ids: string[];
  try {
    ids = readdirSync(exportsRoot);
  } catch {
    return; // no exports yet
  }
  for (const id of ids) {
    const folder = join(exportsRoot, id);
    if (removeStaleTemporaryFiles(folder).length === 0) continue;
    try {
      rmdirSync(folder); // only succeeds when empty
    } catch {
      // a finished export (or a live writer's temporary) is still in it
    }
  }
}

export class Library {
  readonly scenes: SceneStore;
  readonly jobs: JobStore;
  readonly qa: QaStore;
  readonly models: ModelStore;
  /** Markers and the non-destructive edit stack. */
  readonly annotations: AnnotationStore;
  /** Measured speed of each model stage on this machine (progress inside stages, time left). */
  readonly stageRates: StageRateStore;
  /** Jobs found queued/running at open (the previous process died with them). */
  readonly interruptedJobs: number;

  private constructor(
    readonly location: LibraryLocation,
    readonly db: Database.Database,
    jobOwner: JobOwner,
    sceneOptions: SceneStoreOptions,
  ) {
    this.scenes = new SceneStore(db, sceneOptions);
    this.jobs = new JobStore(db, jobOwner);
    this.qa = new QaStore(db);
    this.models = new ModelStore(db);
    this.annotations = new AnnotationStore(db);
    this.stageRates = new StageRateStore(db);
    this.interruptedJobs = this.jobs.failInterrupted();
    this.jobs.prune();
    removeKilledExports(join(location.dir, 'exports'));
  }

  /**
   * Open (creating and migrating as needed) the library at a folder or .sqlite
   * path. `jobOwner` is for tests that play another process; `chunkBytes`
   * for tests of chunked point storage with small clouds.
   */
  static open(libraryPath: string, options: { jobOwner?: JobOwner } & SceneStoreOptions = {}): Library {
    const location = libraryLocation(libraryPath);
    const db = openDatabase(location.dbFile);
    return new Library(location, db, options.jobOwner ?? THIS_PROCESS, { chunkBytes: options.chunkBytes });
  }

  get schemaVersion(): number {
    return currentSchemaVersion(this.db);
  }

  /** Uploaded files waiting to be imported. */
  get uploadsDir(): string {
    return this.ensureDir('uploads');
  }

  /** Export results, served from blobPaths.export. */
  get exportsDir(): string {
    return this.ensureDir('exports');
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private ensureDir(name: string): string {
    const dir = join(this.location.dir, name);
    ensureDir(dir);
    return dir;
  }
}
