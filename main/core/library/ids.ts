import { randomBytes } from 'node:crypto';

/**
 * Ids are a short readable prefix and 16 hex digits: they match the API's id
 * pattern and never start with "-" (which a CLI would read as an option).
 */
export type IdPrefix = 'scn' | 'frm' | 'rec' | 'job' | 'qa' | 'mrk' | 'edt' | 'exp' | 'upl' | 'mdl';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
