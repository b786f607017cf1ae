// The folder-upload rules both sides apply: relative names that cannot leave
// the upload folder, and the file-count and byte bounds, each refused with a
// typed error that says what to do.

import { describe, expect, it } from 'vitest';
import { StudioError } from '../../../main/common/errors';
import {
  FOLDER_UPLOAD_LIMITS,
  checkFolderUpload,
  relativePathProblem,
} from '../../../main/common/folder-upload';

const refusal = (run: () => unknown): StudioError => {
  try {
    run();
  } catch (error) {
    if (error instanceof StudioError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('relative paths in a folder upload', () => {
  it('accepts plain relative names', () => {
    for (const path of [
      'a.jpg',
      'images/a.jpg',
      'sparse/0/cameras.bin',
      'ünïcode/фото 1.JPG',
      'a..b/c',
      'IMG 12:30.jpg',
    ])
      expect(relativePathProblem(path), path).toBeNull();
  });

  it('refuses names that climb out, are absolute, or are not plain', () => {
    const bad = [
      '',
      '../x',
      'images/../../x',
      '..',
      './a.jpg',
      'a/./b',
      '/etc/passwd',
      'C:/Windows/win.ini',
      'C:x',
      'a\\..\\..\\x',
      '\\\\server\\share',
      'a//b',
      'a/',
      'a\u0000b',
      'a\nb',
      'x'.repeat(1025),
      `${'d/'.repeat(40)}f`,
      `${'n'.repeat(256)}/f`,
    ];
    for (const path of bad) expect(relativePathProblem(path), JSON.stringify(path)).not.toBeNull();
  });
});

describe('folder upload bounds', () => {
  const files = (count: number, bytes = 10) =>
    Array.from({ length: count }, (_, i) => ({ path: `images/${i}.jpg`, bytes }));

  it('returns the total within the limits', () => {
    expect(checkFolderUpload('cap', files(5, 10), { maxFiles: 5, maxBytes: 50 })).toBe(50);
  });

  it('refuses too many files, naming the limit and the way around it', () => {
    const error = refusal(() => checkFolderUpload('cap', files(6), { maxFiles: 5, maxBytes: 1e9 }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('6 files');
    expect(error.message).toContain('at most 5');
    expect(error.fix).toContain('g2studio import');
  });

  it('refuses too many bytes', () => {
    const error = refusal(() => checkFolderUpload('cap', files(5, 11), { maxFiles: 10, maxBytes: 50 }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('50 B');
  });

  it('refuses traversal and absolute names, duplicates, and a name that is both file and folder', () => {
    for (const path of ['../x.jpg', '/abs.jpg', 'images/../../x.jpg', 'D:/x.jpg']) {
      const error = refusal(() => checkFolderUpload('cap', [{ path, bytes: 1 }]));
      expect(error.code, path).toBe('invalid-input');
      expect(error.message).toContain(path);
    }
    const twice = [
      { path: 'images/A.jpg', bytes: 1 },
      { path: 'images/a.jpg', bytes: 1 },
    ];
    expect(refusal(() => checkFolderUpload('cap', twice)).message).toContain('twice');
    const both = [
      { path: 'images', bytes: 1 },
      { path: 'images/a.jpg', bytes: 1 },
    ];
    expect(refusal(() => checkFolderUpload('cap', both)).message).toContain('both as a file and as a folder');
    expect(refusal(() => checkFolderUpload('cap', [])).code).toBe('invalid-input');
    expect(refusal(() => checkFolderUpload('cap', [{ path: 'a', bytes: -1 }])).code).toBe('invalid-input');
  });

  it('has defaults a large capture fits in', () => {
    expect(checkFolderUpload('cap', files(5000, 8 * 2 ** 20))).toBe(5000 * 8 * 2 ** 20);
    expect(FOLDER_UPLOAD_LIMITS.maxFiles).toBeGreaterThanOrEqual(10_000);
  });
});
