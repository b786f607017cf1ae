// An official-layout G2VLM checkpoint folder: configs + model.safetensors (or a
// sharded index), validated against the full state-dict inventory of model doc
// §1.2 before anything runs. The official loader is non-strict (a missing weight
// silently stays random, pitfall §10.13); we refuse instead.

import { createReadStream, promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { StudioError } from '../../common/errors';
import { CONFIG_FILES, readG2vlmConfig, type G2vlmConfig } from './config';
import { SafetensorsFile, elementCount, type TensorInfo } from './safetensors';
import { DECODER_KINDS, LLM_EXPERTS, decoderNames, llmNames, type DecoderKind } from './weight-names';

/** Tensors in the official checkpoint that inference never reads, skipped on purpose. */
export const IGNORED_TENSORS: ReadonlySet<string> = new Set([
  // DINOv2 masked-image-modelling token: only used in training (model doc §1.1).
  'dino_model.embeddings.mask_token',
]);

export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Which configuration file a tensor's shape follows, for error messages. */
type ShapeSource = 'text_config.json' | 'vit_config.json' | 'dino_config.json' | 'G2VLM code';

interface ExpectedTensor {
  shape: number[];
  source: ShapeSource;
}

function inventory(config: G2vlmConfig): Map<string, ExpectedTensor> {
  const out = new Map<string, ExpectedTensor>();
  const add = (source: ShapeSource, name: string, shape: number[]): void => {
    out.set(name, { shape, source });
  };

  // LLM: every layer holds an "und" and a "geo" (_moe_geo) expert (model doc §1.2).
  const t = config.text;
  const D = t.hiddenSize;
  const qOut = t.numHeads * t.headDim;
  const kvOut = t.numKvHeads * t.headDim;
  add('text_config.json', llmNames.embedTokens, [t.vocabSize, D]);
  add('text_config.json', `${llmNames.lmHead}.weight`, [t.vocabSize, D]);
  for (const expert of LLM_EXPERTS) add('text_config.json', llmNames.finalNorm(expert), [D]);
  for (let i = 0; i < t.numLayers; i++) {
    for (const expert of LLM_EXPERTS) {
      const n = llmNames.layer(i, expert);
      add('text_config.json', n.inputNorm, [D]);
      add('text_config.json', n.postAttentionNorm, [D]);
      for (const [proj, out] of [
        [n.qProj, qOut],
        [n.kProj, kvOut],
        [n.vProj, kvOut],
      ] as const) {
        add('text_config.json', `${proj}.weight`, [out, D]);
        add('text_config.json', `${proj}.bias`, [out]);
      }
      add('text_config.json', `${n.oProj}.weight`, [D, qOut]);
      add('text_config.json', n.qNorm, [t.headDim]);
      add('text_config.json', n.kNorm, [t.headDim]);
      add('text_config.json', `${n.mlp}.gate_proj.weight`, [t.intermediateSize, D]);
      add('text_config.json', `${n.mlp}.up_proj.weight`, [t.intermediateSize, D]);
      add('text_config.json', `${n.mlp}.down_proj.weight`, [D, t.intermediateSize]);
    }
    const scales = llmNames.layerScales(i);
    add('text_config.json', scales.ls1, [D]);
    add('text_config.json', scales.ls2, [D]);
  }

  // DINOv2 with registers.
  const d = config.dino;
  const Dd = d.hiddenSize;
  const de = 'dino_model.embeddings.';
  add('dino_config.json', `${de}patch_embeddings.projection.weight`, [
    Dd,
    d.numChannels,
    d.patchSize,
    d.patchSize,
  ]);
  add('dino_config.json', `${de}patch_embeddings.projection.bias`, [Dd]);
  add('dino_config.json', `${de}cls_token`, [1, 1, Dd]);
  add('dino_config.json', `${de}register_tokens`, [1, d.numRegisters, Dd]);
  add('dino_config.json', `${de}position_embeddings`, [1, 1 + d.positionGridSide * d.positionGridSide, Dd]);
  for (let i = 0; i < d.numLayers; i++) {
    const p = `dino_model.encoder.layer.${i}.`;
    for (const norm of ['norm1', 'norm2']) {
      add('dino_config.json', `${p}${norm}.weight`, [Dd]);
      add('dino_config.json', `${p}${norm}.bias`, [Dd]);
    }
    for (const proj of ['query', 'key', 'value']) {
      add('dino_config.json', `${p}attention.attention.${proj}.weight`, [Dd, Dd]);
      add('dino_config.json', `${p}attention.attention.${proj}.bias`, [Dd]);
    }
    add('dino_config.json', `${p}attention.output.dense.weight`, [Dd, Dd]);
    add('dino_config.json', `${p}attention.output.dense.bias`, [Dd]);
    add('dino_config.json', `${p}layer_scale1.lambda1`, [Dd]);
    add('dino_config.json', `${p}layer_scale2.lambda1`, [Dd]);
    add('dino_config.json', `${p}mlp.fc1.weight`, [d.mlpHiddenSize, Dd]);
    add('dino_config.json', `${p}mlp.fc1.bias`, [d.mlpHiddenSize]);
    add('dino_config.json', `${p}mlp.fc2.weight`, [Dd, d.mlpHiddenSize]);
    add('dino_config.json', `${p}mlp.fc2.bias`, [Dd]);
  }
  add('dino_config.json', 'dino_model.layernorm.weight', [Dd]);
  add('dino_config.json', 'dino_model.layernorm.bias', [Dd]);
  add('dino_config.json', 'dino2llm.weight', [D, Dd]);
  add('dino_config.json', 'dino2llm.bias', [D]);

  // Qwen2-VL vision tower + patch merger.
  const v = config.vit;
  const E = v.embedDim;
  const vMlp = E * v.mlpRatio;
  const merged = E * v.spatialMergeSize * v.spatialMergeSize;
  add('vit_config.json', 'vit_model.patch_embed.proj.weight', [
    E,
    v.inChannels,
    v.temporalPatchSize,
    v.patchSize,
    v.patchSize,
  ]);
  for (let i = 0; i < v.depth; i++) {
    const p = `vit_model.blocks.${i}.`;
    for (const norm of ['norm1', 'norm2']) {
      add('vit_config.json', `${p}${norm}.weight`, [E]);
      add('vit_config.json', `${p}${norm}.bias`, [E]);
    }
    add('vit_config.json', `${p}attn.qkv.weight`, [3 * E, E]);
    add('vit_config.json', `${p}attn.qkv.bias`, [3 * E]);
    add('vit_config.json', `${p}attn.proj.weight`, [E, E]);
    add('vit_config.json', `${p}attn.proj.bias`, [E]);
    add('vit_config.json', `${p}mlp.fc1.weight`, [vMlp, E]);
    add('vit_config.json', `${p}mlp.fc1.bias`, [vMlp]);
    add('vit_config.json', `${p}mlp.fc2.weight`, [E, vMlp]);
    add('vit_config.json', `${p}mlp.fc2.bias`, [E]);
  }
  add('vit_config.json', 'vit_model.merger.ln_q.weight', [E]);
  add('vit_config.json', 'vit_model.merger.ln_q.bias', [E]);
  add('vit_config.json', 'vit_model.merger.mlp.0.weight', [merged, merged]);
  add('vit_config.json', 'vit_model.merger.mlp.0.bias', [merged]);
  add('vit_config.json', 'vit_model.merger.mlp.2.weight', [v.outHiddenSize, merged]);
  add('vit_config.json', 'vit_model.merger.mlp.2.bias', [v.outHiddenSize]);

  // Geometry decoders (width = LLM hidden, everything else fixed by the code).
  const g = config.decoders;
  const W = g.width;
  const linearOf = (prefix: string, out: number, inp: number): void => {
    add('text_config.json', `${prefix}.weight`, [out, inp]);
    add('text_config.json', `${prefix}.bias`, [out]);
  };
  const normOf = (prefix: string): void => {
    add('text_config.json', `${prefix}.weight`, [W]);
    add('text_config.json', `${prefix}.bias`, [W]);
  };
  const outDims: Record<DecoderKind, number> = {
    point: g.pointOutDim,
    camera: g.cameraOutDim,
    global: g.globalOutDim,
  };
  for (const kind of DECODER_KINDS) {
    const cross = decoderNames.hasCrossAttention(kind);
    for (let i = 0; i < g.depth; i++) {
      const n = decoderNames.block(kind, i);
      for (const norm of cross ? [n.norm1, n.norm2, n.norm3, n.normY] : [n.norm1, n.norm2]) normOf(norm);
      linearOf(n.qkv, 3 * W, W);
      linearOf(n.proj, W, W);
      if (cross) for (const proj of [n.crossQ, n.crossK, n.crossV, n.crossProj]) linearOf(proj, W, W);
      linearOf(n.fc1, g.mlpRatio * W, W);
      linearOf(n.fc2, W, g.mlpRatio * W);
    }
    linearOf(decoderNames.linearOut(kind), outDims[kind], W);
  }

  // Heads: sizes fixed by the code.
  for (const head of ['point_head', 'global_point_head']) {
    add('G2VLM code', `${head}.proj.weight`, [g.pointHeadChannels, g.pointOutDim]);
    add('G2VLM code', `${head}.proj.bias`, [g.pointHeadChannels]);
  }
  const C = g.cameraHeadDim;
  for (let block = 0; block < 2; block++) {
    for (let j = 1; j <= 3; j++) {
      add('G2VLM code', `camera_head.res_conv.${block}.res_conv${j}.weight`, [C, C]);
      add('G2VLM code', `camera_head.res_conv.${block}.res_conv${j}.bias`, [C]);
    }
  }
  for (const index of [0, 2]) {
    add('G2VLM code', `camera_head.more_mlps.${index}.weight`, [C, C]);
    add('G2VLM code', `camera_head.more_mlps.${index}.bias`, [C]);
  }
  add('G2VLM code', 'camera_head.fc_t.weight', [3, C]);
  add('G2VLM code', 'camera_head.fc_t.bias', [3]);
  add('G2VLM code', 'camera_head.fc_rot.weight', [9, C]);
  add('G2VLM code', 'camera_head.fc_rot.bias', [9]);
  return out;
}

/** Every state-dict key inference needs, with its shape for this configuration (model doc §1.2). */
export function expectedTensors(config: G2vlmConfig): Map<string, number[]> {
  return new Map([...inventory(config)].map(([name, { shape }]) => [name, shape]));
}

export function parameterCount(config: G2vlmConfig): number {
  let count = 0;
  for (const shape of expectedTensors(config).values()) count += elementCount(shape);
  return count;
}

const FLOAT_DTYPES = new Set(['F32', 'BF16', 'F16']);
const COMPLETE_FIX = 'Use the complete official G2VLM checkpoint (all files of one release, unmodified).';

function listSome(names: string[], limit = 5): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/**
 * Checks a set of tensors against the inventory; throws the first problem as a
 * model-corrupt error. Like the official non-strict load, tensors G2VLM does not
 * have are ignored: they come back as one warning line (empty when none).
 * Missing and mis-shaped ones are refused (the official load would leave them random).
 */
export function validateTensors(config: G2vlmConfig, tensors: ReadonlyMap<string, TensorInfo>): string[] {
  const expected = inventory(config);
  const missing = [...expected.keys()].filter((name) => !tensors.has(name));
  if (missing.length > 0) {
    throw new StudioError(
      'model-corrupt',
      `The checkpoint is missing ${missing.length} tensor${missing.length === 1 ? '' : 's'}: ${listSome(missing)}.`,
      COMPLETE_FIX,
    );
  }
  const extra = [...tensors.keys()]
    .filter((name) => !expected.has(name) && !IGNORED_TENSORS.has(name))
    .sort();
  const warnings =
    extra.length === 0
      ? []
      : [
          `${basename(tensors.get(extra[0])!.file)} holds ${extra.length} tensor${extra.length === 1 ? '' : 's'} G2VLM does not use, ignored as the official loader ignores them: ${listSome(extra)}.`,
        ];
  for (const [name, { shape, source }] of expected) {
    const info = tensors.get(name)!;
    if (!FLOAT_DTYPES.has(info.dtype)) {
      throw new StudioError(
        'model-corrupt',
        `${basename(info.file)}: tensor ${name} is ${info.dtype}; G2VLM weights must be F32, BF16 or F16.`,
        COMPLETE_FIX,
      );
    }
    if (info.shape.length !== shape.length || info.shape.some((dim, k) => dim !== shape[k])) {
      throw new StudioError(
        'model-corrupt',
        `${basename(info.file)}: tensor ${name} has shape [${info.shape.join(', ')}] but ${source} implies [${shape.join(', ')}]; the configuration files and the weights disagree.`,
        'Use the configuration files that were released with these weights.',
      );
    }
  }
  return warnings;
}

export interface Checkpoint {
  readonly dir: string;
  readonly config: G2vlmConfig;
  /** Problems that do not stop loading (tensors G2VLM does not use), one line each. */
  readonly warnings: readonly string[];
  /** The weights inference uses (sorted; ignored tensors excluded). */
  tensorNames(): string[];
  info(name: string): TensorInfo;
  readFloat32(name: string): Promise<Float32Array>;
  /** The underlying reader, for raw/chunked reads (converter). */
  readonly weights: SafetensorsFile;
  /** Dominant storage dtype of the weights ('F32', 'BF16', 'F16' or 'mixed'). */
  readonly storageDtype: string;
  /** sha256 of every file that defines the model (configs, weights, tokenizer), streamed. */
  sourceHashes(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files beside the weights that influence the model's behaviour (hashed for provenance). */
const SOURCE_FILE_PATTERN =
  /^(text_config|vit_config|dino_config|tokenizer|tokenizer_config|vocab|merges|special_tokens_map|added_tokens|preprocessor_config|generation_config)\.(json|txt)$|^g2vlm_.*\.json$|\.safetensors$|^model\.safetensors\.index\.json$/;

/** Opens and validates a checkpoint folder. Throws StudioError('model-corrupt' | 'model-missing' | …). */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const dirStat = await fs.stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new StudioError(
      'model-missing',
      `The checkpoint folder ${dir} does not exist.`,
      'Choose the folder that holds model.safetensors and the three *_config.json files.',
    );
  }
  const config = await readG2vlmConfig(dir);
  const indexPath = join(dir, WEIGHTS_INDEX_FILE);
  const singlePath = join(dir, WEIGHTS_FILE);
  let weightsPath: string;
  if (await exists(singlePath)) weightsPath = singlePath;
  else if (await exists(indexPath)) weightsPath = indexPath;
  else {
    throw new StudioError(
      'model-missing',
      `The checkpoint folder ${dir} has no ${WEIGHTS_FILE} (nor ${WEIGHTS_INDEX_FILE}).`,
      'Download the weights of the official checkpoint into this folder.',
    );
  }
  const weights = await SafetensorsFile.open(weightsPath);
  let warnings: string[];
  try {
    warnings = validateTensors(config, weights.tensors);
  } catch (error) {
    await weights.close();
    throw error;
  }
  const names = [...expectedTensors(config).keys()].sort();
  const dtypes = new Set(names.map((name) => weights.tensors.get(name)!.dtype));
  const storageDtype = dtypes.size === 1 ? [...dtypes][0] : 'mixed';

  return {
    dir,
    config,
    weights,
    storageDtype,
    warnings,
    tensorNames: () => names.slice(),
    info: (name) => weights.info(name),
    readFloat32: (name) => weights.readFloat32(name),
    async sourceHashes() {
      const files = (await fs.readdir(dir)).filter((name) => SOURCE_FILE_PATTERN.test(name)).sort();
      const hashes: Record<string, string> = {};
      for (const file of files) hashes[file] = await sha256File(join(dir, file));
      for (const required of CONFIG_FILES) {
        if (!hashes[required])
          throw new StudioError('model-missing', `${required} disappeared from ${dir}.`, 'Restore it.');
      }
      return hashes;
    },
    close: () => weights.close(),
  };
}
