// The converter's output folder: what it may replace, where it writes first,
// and how the finished model takes the folder's place.
//
// A user's folder is never deleted: an existing non-empty --out is replaced
// only when it carries the marker file that only the converter writes (a
// `manifest.json` alone proves nothing — any folder may have one). The new
// model is written into a temporary sibling named with this process's id, so
// the next conversion can remove the leftovers of a killed one.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StudioError } from '../../common/errors';
import { isProcessAlive, removeStaleTemporaries } from '../../base/process-temporaries';

/** Written last into every converted model folder; its presence is what makes a folder replaceable. */
export const CONVERTED_MODEL_MARKER = '.g2studio-converted-model';
const MARKER_TEXT = 'This folder was written by `g2studio model convert`; converting again may replace it.\n';

/** `.<name>.converting-<pid>-<hex>` (in progress) and `.<name>.replaced-<pid>-<hex>` (old model moved aside). */
const TEMPORARY_NAME = /^\..+\.(converting|replaced)-(\d+)-[0-9a-f]+$/;

export function isConvertedModelFolder(dir: string): boolean {
  try {
    return fs.readFileSync(join(dir, CONVERTED_MODEL_MARKER), 'utf8') === MARKER_TEXT;
  } catch {
    return false;
  }
}

/** Refuses an existing --out that is a file, or a non-empty folder the converter did not write. */
export function refuseForeignOutput(target: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch {
    return; // absent: it will be created
  }
  if (stat.isDirectory() && (fs.readdirSync(target).length === 0 || isConvertedModelFolder(target))) return;
  throw new StudioError(
    'invalid-input',
    `${target} already exists and is not a model folder written by the converter; it is left untouched.`,
    'Choose a new or empty folder for the converted model (--out).',
  );
}

/** Creates the temporary sibling folder the model is written into. */
export function createTemporaryOutput(target: string): string {
  fs.mkdirSync(dirname(target), { recursive: true });
  const temp = join(
    dirname(target),
    `.${basename(target)}.converting-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  fs.mkdirSync(temp);
  return temp;
}

/**
 * Marks `temp` as a converted model and puts it in `target`'s place. An old
 * model is renamed aside first and removed last; if the process dies between
 * the two renames, recoverStaleOutputs() puts the old model back.
 */
export function replaceWithConvertedModel(temp: string, target: string): void {
  fs.writeFileSync(join(temp, CONVERTED_MODEL_MARKER), MARKER_TEXT);
  let old: string | undefined;
  if (fs.existsSync(target)) {
    refuseForeignOutput(target); // it may have changed while we converted
    old = join(
      dirname(target),
      `.${basename(target)}.replaced-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    fs.renameSync(target, old);
  }
  try {
    fs.renameSync(temp, target);
  } catch (error) {
    if (old) fs.renameSync(old, target);
    throw error;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Cleans up after killed conversions in `target`'s parent folder: an old
 * model moved aside whose replacement never arrived goes back in place, and
 * every other temporary of a dead process is removed.
 */
export function recoverStaleOutputs(target: string): void {
  const parent = dirname(target);
  const aside = `.${basename(target)}.replaced-`;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  if (!fs.existsSync(target)) {
    for (const name of names) {
      const match = TEMPORARY_NAME.exec(name);
      if (name.startsWith(aside) && match && !isProcessAlive(Number(match[2]))) {
        fs.renameSync(join(parent, name), target);
        break;
      }
    }
  }
  removeStaleTemporaries(parent, /^\..+\.(?:converting|replaced)-(\d+)-[0-9a-f]+$/);
}
