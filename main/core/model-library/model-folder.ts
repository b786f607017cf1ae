// Registering a converted model folder: its manifest.json (written by
// `g2studio model convert`, format in main/model/runtime/model-manifest.ts)
// says who the model is and which graphs it has; the graphs it has decide
// what it can do. The engine reads the rest when it runs.

import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ModelInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { readModelManifest, type GraphId } from '../../model';
import { nowIso } from '../library/ids';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Graphs each capability needs (see docs/g2vlm-model.md for the dataflow). */
const RECONSTRUCT_GRAPHS: GraphId[] = ['dino', 'embed_tokens', 'camera_decoder', 'point_decoder'];
const CHAT_GRAPHS: GraphId[] = ['dino', 'embed_tokens', 'vision_tower', 'lm_head'];

/** A manifest id made safe for the API's id pattern. */
export function modelIdFrom(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return cleaned || 'model';
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The tokenizer files main/model/tokenizer reads: tokenizer.json, or vocab.json with merges.txt. */
async function hasTokenizer(dir: string): Promise<boolean> {
  if (await exists(join(dir, 'tokenizer.json'))) return true;
  return (await exists(join(dir, 'vocab.json'))) && (await exists(join(dir, 'merges.txt')));
}

/** Validate a converted model folder and describe it as the library stores it. */
export async function readModelFolder(path: string): Promise<Omit<ModelInfo, 'active'>> {
  const dir = resolve(path);
  const folder = await stat(dir).catch(() => null);
  if (!folder) {
    throw new StudioError(
      'unreadable-path',
      `The model folder "${path}" does not exist or cannot be read.`,
      'Check the path and try again.',
    );
  }
  if (!folder.isDirectory()) {
    throw new StudioError(
      'model-missing',
      `"${path}" is a file, not a converted model folder.`,
      'Convert a checkpoint with `g2studio model convert`, then register the output folder.',
    );
  }
  const manifest = readModelManifest(dir);
  const graphs = manifest.graphs;
  const has = (ids: GraphId[]): boolean => ids.every((id) => graphs[id] !== undefined);
  for (const [id, entry] of Object.entries(graphs)) {
    if (!entry || !(await exists(join(dir, entry.file)))) {
      throw new StudioError(
        'model-corrupt',
        `The model in "${path}" is missing its ${id} graph file${entry ? ` (${entry.file})` : ''}.`,
        'Convert the checkpoint again with `g2studio model convert`.',
      );
    }
  }
  if (manifest.weightsFile && !(await exists(join(dir, manifest.weightsFile)))) {
    throw new StudioError(
      'model-corrupt',
      `The model in "${path}" is missing its weights file ${manifest.weightsFile}.`,
      'Convert the checkpoint again with `g2studio model convert`.',
    );
  }
  // Chat needs the tokenizer as much as its graphs: a checkpoint converted without one can only reconstruct.
  const capabilities = {
    reconstruct: has(RECONSTRUCT_GRAPHS),
    chat: has(CHAT_GRAPHS) && (await hasTokenizer(dir)),
  };
  if (!capabilities.reconstruct && !capabilities.chat) {
    throw new StudioError(
      'model-corrupt',
      `The model in "${path}" has neither the reconstruction nor the chat graphs.`,
      'Convert the checkpoint again with `g2studio model convert`.',
    );
  }
  const rawId = typeof manifest.id === 'string' && manifest.id ? manifest.id : basename(dir);
  const id = ID_PATTERN.test(rawId) ? rawId : modelIdFrom(rawId);
  return {
    id,
    name: typeof manifest.name === 'string' && manifest.name ? manifest.name : id,
    path: dir,
    precision: manifest.dtype ?? 'fp32',
    capabilities,
    installedAt: nowIso(),
  };
}
