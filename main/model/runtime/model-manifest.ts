// manifest.json of a converted model folder: what `convertCheckpoint` writes
// and every runtime reads.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';
import type { G2vlmConfig } from '../checkpoint/config';
import type { Precision } from '../graph/quantize';
import { isSoftwareVulkanOnly } from './provider-probe';

export const MODEL_FORMAT_VERSION = 1;
export const MODEL_MANIFEST_FILE = 'manifest.json';

export type GraphId =
  | 'dino'
  | 'embed_tokens'
  | 'llm_causal'
  | 'llm_block'
  | 'lm_head'
  | 'point_decoder'
  | 'camera_decoder'
  | 'global_decoder'
  | 'vision_tower';

/**
 * The graphs with attention. The converter writes each twice: `<id>.onnx` with
 * the standard Attention op (the CPU's graph, whose parity and memory are
 * measured) and `<id>.webgpu.onnx` with the same attention as MatMul/Softmax,
 * which the WebGPU provider runs on the GPU (ORT 1.30 has no WebGPU Attention
 * kernel: docs/webgpu.md). A variant is a graph proto of a few hundred kB: its
 * weights are the same ranges of the one weights file.
 */
export const WEBGPU_VARIANT_GRAPHS: readonly GraphId[] = [
  'dino',
  'llm_causal',
  'llm_block',
  'point_decoder',
  'camera_decoder',
  'global_decoder',
  'vision_tower',
];
/** How a WebGPU variant's file name ends (`dino.webgpu.onnx`). */
export const WEBGPU_VARIANT_SUFFIX = '.webgpu.onnx';

export interface GraphEntry {
  file: string;
  /** The WebGPU variant (WEBGPU_VARIANT_GRAPHS); absent in folders converted before it existed. */
  webgpuFile?: string;
}

export interface ModelManifest {
  format_version: number;
  id: string;
  name: string;
  /** Precision of the weights (docs/precisions.md). */
  dtype: Precision;
  configs: G2vlmConfig;
  specialTokens: {
    bos: number;
    eos: number;
    startOfImage: number;
    endOfImage: number;
    endOfText: number;
    decodeStart: number;
  };
  /** [bos] is NOT included: ids of 'Reconstruct the 3D scene.' in this checkpoint's vocabulary. */
  reconPromptIds: number[];
  graphs: Partial<Record<GraphId, GraphEntry>>;
  weightsFile: string;
  weightsBytes: number;
  sourceHashes: Record<string, string>;
  sourceDir: string;
  created: string;
}

export function readModelManifest(modelDir: string): ModelManifest {
  const path = join(modelDir, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    throw new StudioError(
      'model-missing',
      `No converted model in ${modelDir} (manifest.json is missing).`,
      'Convert the checkpoint first: g2studio model convert <checkpoint> <output folder>.',
    );
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch {
    throw new StudioError('model-corrupt', `${path} is not valid JSON.`, 'Convert the checkpoint again.');
  }
  if (manifest.format_version !== MODEL_FORMAT_VERSION || !manifest.graphs || !manifest.configs) {
    throw new StudioError(
      'model-corrupt',
      `${path} has format version ${String(manifest.format_version)}; this build reads version ${MODEL_FORMAT_VERSION}.`,
      'Convert the checkpoint again with this version of G2 Studio.',
    );
  }
  return manifest;
}

/**
 * The graph file a session on `provider` loads: the WebGPU variant where the
 * folder has one, else the standard graph (older folders: it runs, with its
 * Attention on the CPU, and the run's node count says so).
 */
/** Set to 1 to load the WebGPU graph forms on a software adapter too (the full SwiftShader proof). */
export const WEBGPU_FORMS_ON_SOFTWARE_ENV = 'G2STUDIO_WEBGPU_FORMS_ON_SOFTWARE';

/**
 * Whether WebGPU sessions load the graphs' WebGPU forms (attention as
 * MatMul/Softmax). Not on a software adapter (SwiftShader, lavapipe; only ever
 * used when asked for): it emulates the GPU on the CPU at about 1 µs per
 * output element, so one decoder attention of 3 tiny-a frames took ~60 s
 * there against 0.1 s in the CPU provider's Attention kernel, and a
 * verify-golden 23-40 min instead of ~5 (docs/webgpu.md). There the standard
 * graphs run, their attention on the CPU.
 */
export function webgpuFormsWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[WEBGPU_FORMS_ON_SOFTWARE_ENV] === '1' || !isSoftwareVulkanOnly(env);
}

export function graphPath(
  modelDir: string,
  manifest: ModelManifest,
  id: GraphId,
  provider: 'cpu' | 'cuda' | 'webgpu' = 'cpu',
): string {
  const entry = manifest.graphs[id];
  if (!entry) {
    throw new StudioError(
      'model-corrupt',
      `The converted model has no ${id} graph.`,
      'Convert the checkpoint again.',
    );
  }
  const webgpuForm = provider === 'webgpu' && entry.webgpuFile && webgpuFormsWanted();
  return join(modelDir, webgpuForm ? (entry.webgpuFile as string) : entry.file);
}
