import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appDataDir,
  LIBRARY_DB_FILE,
  libraryLocation,
  resolveLibraryPath,
} from '../../../../main/core/settings';
import { tempDir } from '../../../support/library-fixtures';

const { dir, cleanup } = tempDir('g2-settings-');
afterAll(cleanup);

describe('settings: where the library lives', () => {
  it('uses the per-user data folder each OS expects', () => {
    expect(appDataDir('linux', {}, '/home/ada')).toBe('/home/ada/.local/share/g2studio');
    expect(appDataDir('linux', { XDG_DATA_HOME: '/data/ada' }, '/home/ada')).toBe('/data/ada/g2studio');
    // A relative XDG_DATA_HOME is invalid per the spec and ignored.
    expect(appDataDir('linux', { XDG_DATA_HOME: 'rel/path' }, '/home/ada')).toBe(
      '/home/ada/.local/share/g2studio',
    );
    expect(appDataDir('darwin', {}, '/Users/ada')).toBe('/Users/ada/Library/Application Support/G2 Studio');
    expect(appDataDir('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada')).toMatch(
      /AppData.Roaming.G2 Studio$/,
    );
  });

  it('takes --library over G2STUDIO_LIBRARY over the default', () => {
    expect(resolveLibraryPath('/flag/lib', { G2STUDIO_LIBRARY: '/env/lib' })).toBe('/flag/lib');
    expect(resolveLibraryPath(undefined, { G2STUDIO_LIBRARY: '/env/lib' })).toBe('/env/lib');
    expect(resolveLibraryPath('  ', {})).toBe(join(appDataDir(), 'library'));
  });

  it('accepts a library folder or the .sqlite file inside it', () => {
    expect(libraryLocation(join(dir, 'lib'))).toEqual({
      dir: join(dir, 'lib'),
      dbFile: join(dir, 'lib', LIBRARY_DB_FILE),
    });
    expect(libraryLocation(join(dir, 'elsewhere', 'mine.sqlite'))).toEqual({
      dir: join(dir, 'elsewhere'),
      dbFile: join(dir, 'elsewhere', 'mine.sqlite'),
    });
    mkdirSync(join(dir, 'copied'), { recursive: true });
    writeFileSync(join(dir, 'copied', 'backup'), '');
    expect(libraryLocation(join(dir, 'copied', 'backup')).dbFile).toBe(join(dir, 'copied', 'backup'));
  });
});
