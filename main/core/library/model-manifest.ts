// Reading a converted model folder's manifest.json (written by
// `g2studio model convert`, main/model/). The studio only needs who the model
// is and what it can do; the engine reads the rest.

import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { ModelInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { nowIso } from './ids';

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

type ManifestGraph = string | { name?: unknown; file?: unknown; path?: unknown };

interface ManifestShape {
  id?: unknown;
  name?: unknown;
  precision?: unknown;
  graphs?: unknown;
  capabilities?: unknown;
}

function graphNames(graphs: unknown): { names: string[]; files: string[] } {
  const names: string[] = [];
  const files: string[] = [];
  const add = (key: string | null, value: ManifestGraph): void => {
    if (typeof value === 'string') {
      names.push(key ?? value);
      if (/\.onnx$/i.test(value)) files.push(value);
      return;
    }
    if (value && typeof value === 'object') {
      const name = typeof value.name === 'string' ? value.name : key;
      if (name) names.push(name);
      const file =
        typeof value.file === 'string' ? value.file : typeof value.path === 'string' ? value.path : null;
      if (file) files.push(file);
    }
  };
  if (Array.isArray(graphs)) for (const graph of graphs) add(null, graph as ManifestGraph);
  else if (graphs && typeof graphs === 'object')
    for (const [key, value] of Object.entries(graphs)) add(key, value as ManifestGraph);
  return { names, files };
}

/** A manifest id made safe for the API's id pattern. */
export function modelIdFrom(raw: string): string {
  const cleaned = raw
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return cleaned || 'model';
}

/** Validate a converted model folder and describe it as the library stores it. */
export async function readModelFolder(path: string): Promise<Omit<ModelInfo, 'active'>> {
  const dir = resolve(path);
  const notModel = (why: string): StudioError =>
    new StudioError(
      'model-missing',
      `"${path}" is not a converted G2 Studio model: ${why}.`,
      'Convert a checkpoint first with `g2studio model convert`, then register the output folder.',
    );
  try {
    if (!(await stat(dir)).isDirectory()) throw notModel('it is not a folder');
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw new StudioError(
      'unreadable-path',
      `The model folder "${path}" does not exist or cannot be read.`,
      'Check the path and try again.',
    );
  }
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw notModel('it has no manifest.json');
  }
  let manifest: ManifestShape;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    manifest = parsed as ManifestShape;
  } catch {
    throw new StudioError(
      'model-corrupt',
      `The manifest.json in "${path}" is not valid JSON.`,
      'Convert the checkpoint again with `g2studio model convert`.',
    );
  }
  const { names, files } = graphNames(manifest.graphs);
  if (names.length === 0) {
    throw new StudioError(
      'model-corrupt',
      `The manifest.json in "${path}" lists no graphs.`,
      'Convert the checkpoint again with `g2studio model convert`.',
    );
  }
  for (const file of files) {
    const graphPath = isAbsolute(file) ? file : join(dir, file);
    try {
      await stat(graphPath);
    } catch {
      throw new StudioError(
        'model-corrupt',
        `The model in "${path}" is missing its graph file ${file}.`,
        'Convert the checkpoint again with `g2studio model convert`.',
      );
    }
  }
  const rawId = typeof manifest.id === 'string' && manifest.id ? manifest.id : basename(dir);
  const id = ID_PATTERN.test(rawId) && rawId.length <= 64 ? rawId : modelIdFrom(rawId);
  const declared = manifest.capabilities as { reconstruct?: unknown; chat?: unknown } | undefined;
  const joined = names.join(' ').toLowerCase();
  // Without a declared capability list, infer from the graph names: reconstruction
  // needs the geometry decoders/heads, chat needs the LM head and vision tower.
  const capabilities = {
    reconstruct:
      typeof declared?.reconstruct === 'boolean'
        ? declared.reconstruct
        : /decoder|head|geometry|dino/.test(joined),
    chat: typeof declared?.chat === 'boolean' ? declared.chat : /lm[-_]?head|vision|chat/.test(joined),
  };
  return {
    id,
    name: typeof manifest.name === 'string' && manifest.name ? manifest.name : id,
    path: dir,
    precision: typeof manifest.precision === 'string' && manifest.precision ? manifest.precision : 'fp32',
    capabilities,
    installedAt: nowIso(),
  };
}
