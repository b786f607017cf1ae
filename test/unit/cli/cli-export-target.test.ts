// Where `g2studio export` may write: the format and the --out name agree, and
// nothing is replaced without --force. Real files in a temp folder; the CLI's
// end-to-end export runs are in cli.test.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../main/common/errors';
import { checkExportTarget, exportFormatFor } from '../../../main/cli/export-target';
import { tempDir } from '../../support/library-fixtures';

const { dir, cleanup } = tempDir('g2-cli-export-target-');
afterAll(cleanup);

/** The StudioError `run` throws (fails the test when it throws something else or nothing). */
async function studioErrorOf(run: () => unknown): Promise<StudioError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof StudioError) return error;
    throw error;
  }
  throw new Error('expected a StudioError, nothing was thrown');
}

describe('exportFormatFor', () => {
  it('takes --format when the name agrees or names no point-cloud format', () => {
    expect(exportFormatFor('/x/cloud.ply', 'ply')).toBe('ply');
    expect(exportFormatFor('/x/cloud.GLB', 'glb')).toBe('glb');
    expect(exportFormatFor('/x/cloud.bin', 'glb')).toBe('glb');
    expect(exportFormatFor('/x/colmap-model', 'colmap')).toBe('colmap');
    expect(exportFormatFor('/x/transforms', 'nerfstudio')).toBe('nerfstudio');
  });

  it('infers the format from a .ply or .glb name when --format is absent', () => {
    expect(exportFormatFor('/x/cloud.ply', undefined)).toBe('ply');
    expect(exportFormatFor('/x/Cloud.Glb', undefined)).toBe('glb');
  });

  it('refuses a name that contradicts --format, saying which name or format would do', async () => {
    const glbAsPly = await studioErrorOf(() => exportFormatFor('/x/scan.ply', 'glb'));
    expect(glbAsPly.code).toBe('invalid-input');
    expect(glbAsPly.message).toBe('"scan.ply" is named as a PLY file, but --format is glb.');
    expect(glbAsPly.fix).toBe('Name it scan.glb, or use --format ply.');

    const plyAsGlb = await studioErrorOf(() => exportFormatFor('/x/scan.glb', 'ply'));
    expect(plyAsGlb.fix).toBe('Name it scan.ply, or use --format glb.');

    const folderAsFile = await studioErrorOf(() => exportFormatFor('/x/scan.ply', 'colmap'));
    expect(folderAsFile.message).toMatch(/--format colmap writes a folder, but "scan\.ply"/);
    expect(folderAsFile.fix).toBe('Give --out a folder name, or use --format ply.');
  });

  it('asks for --format when the name does not tell', async () => {
    const unknown = await studioErrorOf(() => exportFormatFor('/x/scan.txt', undefined));
    expect(unknown.code).toBe('invalid-input');
    expect(unknown.message).toBe('Cannot tell the export format from "scan.txt".');
    expect(unknown.fix).toMatch(/Add --format ply, glb, colmap or nerfstudio/);
    await studioErrorOf(() => exportFormatFor('/x/colmap-model', undefined));
  });
});

describe('checkExportTarget', () => {
  const existingFile = join(dir, 'existing.ply');
  const existingFolder = join(dir, 'existing-folder');
  writeFileSync(existingFile, 'ply\n');
  mkdirSync(existingFolder);

  it('lets a new path through, with or without --force', async () => {
    await expect(checkExportTarget(join(dir, 'new.ply'), 'ply', false)).resolves.toBeUndefined();
    await expect(checkExportTarget(join(dir, 'new-folder'), 'colmap', true)).resolves.toBeUndefined();
  });

  it('refuses an existing file without --force and says how to replace it', async () => {
    const error = await studioErrorOf(() => checkExportTarget(existingFile, 'ply', false));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe(`${existingFile} already exists.`);
    expect(error.fix).toBe('Add --force to replace it, or choose another --out.');
    await expect(checkExportTarget(existingFile, 'ply', true)).resolves.toBeUndefined();
  });

  it('never replaces a folder: not with a file, not with a camera export, not with --force', async () => {
    const asFile = await studioErrorOf(() => checkExportTarget(existingFolder, 'glb', true));
    expect(asFile.message).toBe(`${existingFolder} is a folder.`);
    expect(asFile.fix).toBe('Give --out a file name ending in .glb.');
    const forced = await studioErrorOf(() => checkExportTarget(existingFolder, 'nerfstudio', true));
    expect(forced.message).toBe(`${existingFolder} already exists, and --force does not replace folders.`);
    const plain = await studioErrorOf(() => checkExportTarget(existingFolder, 'colmap', false));
    expect(plain.message).toBe(`${existingFolder} already exists.`);
  });
});
