// Where the studio keeps its library, and the options every front door
// (CLI, web server, Electron shell) resolves the same way.

import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import packageJson from '../../package.json';

export const APP_NAME = 'G2 Studio';
export const APP_VERSION: string = packageJson.version;

/** Environment variable that points at a library folder (or its .sqlite file). */
export const LIBRARY_ENV = 'G2STUDIO_LIBRARY';

export const LIBRARY_DB_FILE = 'library.sqlite';

/**
 * The per-user data folder the OS expects applications to use:
 * XDG_DATA_HOME (or ~/.local/share) on Linux, Application Support on macOS,
 * %APPDATA% on Windows.
 */
export function appDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share');
  return join(base, 'g2studio');
}

export function defaultLibraryDir(): string {
  return join(appDataDir(), 'library');
}

/**
 * The library folder to use: an explicit --library flag wins, then
 * G2STUDIO_LIBRARY, then the app-data default.
 */
export function resolveLibraryPath(flag?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag?.trim() || env[LIBRARY_ENV]?.trim();
  return chosen ? resolve(chosen) : defaultLibraryDir();
}

export interface LibraryLocation {
  /** Folder holding the database, uploads and exports. */
  dir: string;
  /** The SQLite file. */
  dbFile: string;
}

/**
 * A library path may name the folder or the .sqlite file inside it (so a user
 * can point at a file they copied somewhere).
 */
export function libraryLocation(libraryPath: string): LibraryLocation {
  const path = resolve(libraryPath);
  const ext = extname(path).toLowerCase();
  const namesFile =
    ext === '.sqlite' || ext === '.db' || ext === '.sqlite3' || (existsSync(path) && statSync(path).isFile());
  if (namesFile) return { dir: dirname(path), dbFile: path };
  return { dir: path, dbFile: join(path, LIBRARY_DB_FILE) };
}

/** Short label for messages ("my-lib/library.sqlite"). */
export function describeLibrary(location: LibraryLocation): string {
  return join(basename(location.dir), basename(location.dbFile));
}
