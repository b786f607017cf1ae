// "Point at a local checkpoint folder": the folder is validated as a whole
// before the studio accepts it (configs parse, every weight the model needs is
// present with the shape the configs imply, tokenizer files are there), and
// matched against the catalog by its configuration, never by its name.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';
import { modelCatalog } from '../checkpoint/catalog';
import { openCheckpoint, parameterCount } from '../checkpoint/checkpoint';
import type { G2vlmConfig } from '../checkpoint/config';
import { DOWNLOAD_RECORD_FILE } from './checkpoint-download';

export interface ImportedCheckpoint {
  dir: string;
  config: G2vlmConfig;
  /** Catalog model whose configuration this is (e.g. 'g2vlm-2b-mot'), or null for another size. */
  catalogModelId: string | null;
  storageDtype: string;
  parameterCount: number;
  /** Whether chat is possible: the Qwen tokenizer files are present. */
  hasTokenizer: boolean;
  /** Where it came from, when the studio downloaded it. */
  download: { repoId: string; revision: string; commit: string } | null;
}

const exists = (path: string): Promise<boolean> =>
  fs.stat(path).then(
    () => true,
    () => false,
  );

/** Validate a checkpoint folder. Throws StudioError 'model-missing' | 'model-corrupt' | 'unreadable-path'. */
export async function importCheckpointFolder(dir: string): Promise<ImportedCheckpoint> {
  const stat = await fs.stat(dir).catch(() => null);
  if (stat && !stat.isDirectory()) {
    throw new StudioError(
      'unreadable-path',
      `${dir} is a file, not a checkpoint folder.`,
      'Choose the folder that holds model.safetensors and the *_config.json files.',
    );
  }
  const checkpoint = await openCheckpoint(dir);
  try {
    const hasTokenizer =
      (await exists(join(dir, 'tokenizer.json'))) ||
      ((await exists(join(dir, 'vocab.json'))) && (await exists(join(dir, 'merges.txt'))));
    const match = modelCatalog().models.find((m) => m.matches(checkpoint.config));
    const record = await fs
      .readFile(join(dir, DOWNLOAD_RECORD_FILE), 'utf8')
      .then((text) => JSON.parse(text) as { repoId: string; revision: string; commit: string })
      .catch(() => null);
    return {
      dir,
      config: checkpoint.config,
      catalogModelId: match?.id ?? null,
      storageDtype: checkpoint.storageDtype,
      parameterCount: parameterCount(checkpoint.config),
      hasTokenizer,
      download: record ? { repoId: record.repoId, revision: record.revision, commit: record.commit } : null,
    };
  } finally {
    await checkpoint.close();
  }
}
