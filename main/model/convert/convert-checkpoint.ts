// Converts an official G2VLM checkpoint folder into the runtime's model folder:
// one ONNX graph per network (model modules in main/model/g2vlm), plus a
// WebGPU variant of each graph with attention (model-manifest.ts
// WEBGPU_VARIANT_GRAPHS; the same weights), all weights in ONE external-data file (page-aligned, streamed tensor by tensor — never
// the whole checkpoint in memory) and manifest.json. Written into a temporary
// sibling folder and renamed into place, so a cancelled or failed conversion
// leaves nothing half-written.
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StudioError, cancelledError } from '../../common/errors';
import { openCheckpoint } from '../checkpoint/checkpoint';
import type { G2vlmConfig } from '../checkpoint/config';
import { buildDecoderGraph } from '../g2vlm/decoders';
import { buildDinoGraph } from '../g2vlm/dino';
import { buildEmbedTokensGraph, buildLlmGraph, buildLmHeadGraph } from '../g2vlm/llm';
import { buildVisionTowerGraph } from '../g2vlm/vision-tower';
import { ExternalWeightsWriter } from '../graph/external-weights';
import type { AttentionForm, GraphBuilder } from '../graph/graph-builder';
import {
  applyPrecision,
  quantizeLinears,
  type Precision,
  type QuantScheme,
  type WeightFamily,
} from '../graph/quantize';
import { loadQwen2Tokenizer } from '../tokenizer/qwen2-tokenizer';
import { PREPROCESSOR_CONFIG_FILE, readPreprocessorConfig } from '../preprocess/preprocessor-config';
import { tokenIdMapFor } from '../tokenizer/token-id-map';
import { convertedModelIdFrom } from './model-id';
import {
  MODEL_FORMAT_VERSION,
  MODEL_MANIFEST_FILE,
  WEBGPU_VARIANT_GRAPHS,
  WEBGPU_VARIANT_SUFFIX,
  type GraphId,
  type ModelManifest,
} from '../runtime/model-manifest';
import { writeGraph } from './graph-writer';
import {
  createTemporaryOutput,
  recoverStaleOutputs,
  refuseForeignOutput,
  replaceWithConvertedModel,
} from './output-folder';

/** Real Qwen2 ids of 'Reconstruct the 3D scene.' (official tokenizer; golden manifest). */
export const RECON_PROMPT_REAL_IDS = [693, 7596, 279, 220, 18, 35, 6109, 13];
export const WEIGHTS_FILE_NAME = 'weights.bin';

export interface ConvertOptions {
  /** Weight precision (docs/precisions.md): float storage, or weight-only int8/int4 linears. */
  precision?: Precision;
  /**
   * Overrides the per-family plan of graph/quantize.ts (benchmarks measure one
   * family at a time with it); the manifest still records `precision`.
   */
  quantPlan?: (family: WeightFamily) => QuantScheme | undefined;
  /** @deprecated the old name of `precision` (fp32/fp16 only). */
  dtype?: 'fp32' | 'fp16';
  /**
   * Tokenizer for the chat path when the checkpoint folder has none: a folder
   * with tokenizer.json (or vocab.json + merges.txt), or a tokenizer.json file.
   */
  tokenizerPath?: string;
  signal?: AbortSignal;
  onProgress?: (progress: number, stage: string) => void;
}

/** The float storage type of the weights that stay float at a precision. */
export function floatWeightType(precision: Precision): 'float32' | 'float16' {
  return precision === 'fp16' ? 'float16' : 'float32';
}

/** Every graph of a model at a precision: built in float, then its linears quantised per family. */
export function modelGraphs(
  config: G2vlmConfig,
  precision: Precision,
  quantPlan?: ConvertOptions['quantPlan'],
): Array<[GraphId, GraphBuilder]> {
  return quantised(floatGraphs(config, floatWeightType(precision), 'attention-op'), precision, quantPlan);
}

/**
 * The WebGPU variants (model-manifest.ts WEBGPU_VARIANT_GRAPHS): the graphs with
 * attention, written with MatMul/Softmax attention and otherwise identical —
 * the same initializers, quantised the same way, so they add no weight bytes.
 */
export function webgpuVariantGraphs(
  config: G2vlmConfig,
  precision: Precision,
  quantPlan?: ConvertOptions['quantPlan'],
): Array<[GraphId, GraphBuilder]> {
  const graphs = floatGraphs(config, floatWeightType(precision), 'matmul-softmax', WEBGPU_VARIANT_GRAPHS);
  return quantised(graphs, precision, quantPlan);
}

function quantised(
  graphs: Array<[GraphId, GraphBuilder]>,
  precision: Precision,
  quantPlan?: ConvertOptions['quantPlan'],
): Array<[GraphId, GraphBuilder]> {
  for (const [, graph] of graphs) {
    if (quantPlan) quantizeLinears(graph, quantPlan);
    else applyPrecision(graph, precision);
  }
  return graphs;
}

const GRAPH_BUILDERS: Array<
  [
    GraphId,
    (config: G2vlmConfig, weightType: 'float32' | 'float16', attention: AttentionForm) => GraphBuilder,
  ]
> = [
  ['dino', (c, w, a) => buildDinoGraph(c, w, a)],
  ['embed_tokens', (c, w) => buildEmbedTokensGraph(c, w)],
  ['llm_causal', (c, w, a) => buildLlmGraph(c, { causal: true, weightType: w, attentionForm: a })],
  ['llm_block', (c, w, a) => buildLlmGraph(c, { causal: false, weightType: w, attentionForm: a })],
  ['lm_head', (c, w) => buildLmHeadGraph(c, w)],
  ['point_decoder', (c, w, a) => buildDecoderGraph(c, 'point', w, a)],
  ['camera_decoder', (c, w, a) => buildDecoderGraph(c, 'camera', w, a)],
  ['global_decoder', (c, w, a) => buildDecoderGraph(c, 'global', w, a)],
  ['vision_tower', (c, w, a) => buildVisionTowerGraph(c, w, a)],
];

function floatGraphs(
  config: G2vlmConfig,
  weightType: 'float32' | 'float16',
  attention: AttentionForm,
  only?: readonly GraphId[],
): Array<[GraphId, GraphBuilder]> {
  return GRAPH_BUILDERS.filter(([id]) => !only || only.includes(id)).map(([id, build]) => [
    id,
    build(config, weightType, attention),
  ]);
}

/** The files main/model/tokenizer reads; copied so a model folder is self-contained. */
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.json',
  'merges.txt',
  'special_tokens_map.json',
  'added_tokens.json',
];

/**
 * Copies the tokenizer into the model folder and checks that it loads, so a bad
 * tokenizer fails the conversion instead of the first question. Returns false
 * when there is none (the model can still reconstruct).
 */
async function copyTokenizer(
  checkpointDir: string,
  explicit: string | undefined,
  to: string,
  config: G2vlmConfig,
): Promise<boolean> {
  const from = explicit ? resolve(explicit) : checkpointDir;
  if (explicit && !fs.existsSync(from)) {
    throw new StudioError(
      'unreadable-path',
      `The tokenizer ${from} does not exist.`,
      'Pass a folder with tokenizer.json (or vocab.json + merges.txt), or a tokenizer.json file.',
    );
  }
  if (explicit && fs.statSync(from).isFile()) {
    fs.copyFileSync(from, join(to, 'tokenizer.json'));
  } else {
    const present = TOKENIZER_FILES.filter((f) => fs.existsSync(join(from, f)));
    if (present.length === 0) {
      if (!explicit) return false;
      throw new StudioError(
        'model-corrupt',
        `${from} has no tokenizer files (${TOKENIZER_FILES.slice(0, 4).join(', ')}).`,
        'Pass a folder with tokenizer.json (or vocab.json + merges.txt), or a tokenizer.json file.',
      );
    }
    for (const f of present) fs.copyFileSync(join(from, f), join(to, f));
  }
  try {
    await loadQwen2Tokenizer(to, tokenIdMapFor(config.text.vocabSize, config.specialTokens.endOfText));
  } catch (error) {
    throw new StudioError(
      'model-corrupt',
      `The tokenizer from ${from} cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
      'Use the tokenizer files that came with the checkpoint (Qwen2-VL tokenizer.json).',
    );
  }
  return true;
}

const BYTES_PER_ELEMENT = { float32: 4, float16: 2, uint8: 1, int8: 1 } as const;

/** Refuses up front when the weights file cannot fit on the target disk. */
function ensureDiskSpace(dir: string, graphs: Array<[GraphId, GraphBuilder]>): void {
  const unique = new Map<string, number>();
  for (const [, g] of graphs) {
    for (const w of g.weights)
      unique.set(w.name, w.dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[w.type] + 4096);
  }
  const needed = [...unique.values()].reduce((a, b) => a + b, 0) + 16 * 2 ** 20;
  const stats = fs.statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free < needed) {
    throw new StudioError(
      'disk-full',
      `Converting needs about ${(needed / 2 ** 30).toFixed(1)} GiB in ${dirname(dir)}, only ${(free / 2 ** 30).toFixed(1)} GiB are free.`,
      'Free some disk space or choose another output folder.',
    );
  }
}

export async function convertCheckpoint(
  checkpointDir: string,
  outDir: string,
  opts: ConvertOptions = {},
): Promise<ModelManifest> {
  const dtype: Precision = opts.precision ?? opts.dtype ?? 'fp32';
  const report = opts.onProgress ?? (() => undefined);
  const target = resolve(outDir);
  recoverStaleOutputs(target);
  refuseForeignOutput(target);
  const checkpoint = await openCheckpoint(checkpointDir);
  let temp: string | undefined;
  let weights: ExternalWeightsWriter | undefined;
  try {
    temp = createTemporaryOutput(target);
    report(0, 'hashing');
    const sourceHashes = await checkpoint.sourceHashes();
    opts.signal?.throwIfAborted();
    const config = checkpoint.config;
    const graphs = modelGraphs(config, dtype, opts.quantPlan);
    ensureDiskSpace(temp, graphs);
    weights = new ExternalWeightsWriter(join(temp, WEIGHTS_FILE_NAME), WEIGHTS_FILE_NAME);
    const totalWeights = new Set(graphs.flatMap(([, g]) => g.weights.map((w) => w.name))).size;
    const manifestGraphs: ModelManifest['graphs'] = {};
    let done = 0;
    for (const [id, graph] of graphs) {
      report(done / totalWeights, `graph ${id}`);
      const before = graph.weights.filter((w) => !weights!.has(w.name)).length;
      await writeGraph(graph, join(temp, `${id}.onnx`), weights, checkpoint, opts.signal);
      done += before;
      manifestGraphs[id] = { file: `${id}.onnx` };
    }
    // The WebGPU variants reference the weights written above (writeGraph skips them).
    for (const [id, graph] of webgpuVariantGraphs(config, dtype, opts.quantPlan)) {
      report(done / totalWeights, `graph ${id} (WebGPU)`);
      const file = `${id}${WEBGPU_VARIANT_SUFFIX}`;
      await writeGraph(graph, join(temp, file), weights, checkpoint, opts.signal);
      manifestGraphs[id] = { file: `${id}.onnx`, webgpuFile: file };
    }
    weights.close();
    const bytes = weights.byteLength;
    weights = undefined;
    report(0.99, 'tokenizer');
    await copyTokenizer(checkpointDir, opts.tokenizerPath, temp, config);
    // The chat's image settings, checked now (a bad file fails the conversion, not the first question).
    if (fs.existsSync(join(checkpointDir, PREPROCESSOR_CONFIG_FILE))) {
      await readPreprocessorConfig(checkpointDir);
      fs.copyFileSync(join(checkpointDir, PREPROCESSOR_CONFIG_FILE), join(temp, PREPROCESSOR_CONFIG_FILE));
    }
    const idMap = tokenIdMapFor(config.text.vocabSize, config.specialTokens.endOfText);
    const { source: _source, ...specialTokens } = config.specialTokens;
    const manifest: ModelManifest = {
      format_version: MODEL_FORMAT_VERSION,
      id: convertedModelIdFrom(sourceHashes, dtype),
      name: basename(resolve(checkpointDir)),
      dtype,
      configs: config,
      specialTokens,
      reconPromptIds: RECON_PROMPT_REAL_IDS.map((id) => idMap.toModel(id)),
      graphs: manifestGraphs,
      weightsFile: WEIGHTS_FILE_NAME,
      weightsBytes: bytes,
      sourceHashes,
      sourceDir: resolve(checkpointDir),
      created: new Date().toISOString(),
    };
    fs.writeFileSync(join(temp, MODEL_MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    opts.signal?.throwIfAborted();
    replaceWithConvertedModel(temp, target);
    report(1, 'done');
    return manifest;
  } catch (error) {
    try {
      weights?.close();
    } catch {
      // already closed
    }
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
    if (opts.signal?.aborted) throw cancelledError('The model conversion');
    if (error instanceof StudioError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') {
      throw new StudioError(
        'disk-full',
        `Not enough disk space to convert the model into ${target}.`,
        'Free some disk space and convert again.',
      );
    }
    throw error;
  } finally {
    await checkpoint.close();
  }
}
