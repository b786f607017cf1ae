// The G2VLM configuration of a checkpoint folder, read the way the official
// loader reads it (g2vlm_utils.load_model_and_tokenizer, model doc §1.1):
// text_config.json -> Qwen2-VL LLM (then qk_norm=True, untied lm_head),
// vit_config.json -> Qwen2-VL vision tower (then patch_size=14),
// dino_config.json -> DINOv2-with-registers. The geometry decoder and head sizes
// are hard-coded in G2VLM.__init__ and appear in no file.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';

export interface TextConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Largest M-RoPE position the model was trained for (the chat context limit). */
  maxPositionEmbeddings: number;
  /** Always [16, 24, 24]: the attention constructor overwrites the config value (model doc §5.3). */
  mropeSection: [number, number, number];
  /** Loader override: always true. */
  qkNorm: true;
  /** Loader override: always false (lm_head is its own tensor). */
  tieWordEmbeddings: false;
}

export interface VitConfig {
  depth: number;
  embedDim: number;
  numHeads: number;
  headDim: number;
  /** Width of the merger output (= LLM hidden size). */
  outHiddenSize: number;
  mlpRatio: number;
  /** Loader override: always 14. */
  patchSize: number;
  spatialMergeSize: number;
  temporalPatchSize: number;
  inChannels: number;
  layerNormEps: number;
}

export interface DinoConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  numRegisters: number;
  patchSize: number;
  imageSize: number;
  /** Side of the learned position-embedding grid (image_size / patch_size, 37 for 518/14). */
  positionGridSide: number;
  layerNormEps: number;
  mlpRatio: number;
  mlpHiddenSize: number;
  numChannels: number;
}

/** Geometry decoders and heads: fixed by G2VLM.__init__, width from the LLM (model doc §1, §7). */
export interface DecoderConfig {
  /** Decoder width = LLM hidden size. */
  width: number;
  numHeads: 16;
  headDim: number;
  depth: 5;
  mlpRatio: 4;
  layerNormEps: number;
  /** RoPE2D frequency base. */
  ropeFrequency: 100;
  pointOutDim: 1024;
  globalOutDim: 1024;
  cameraOutDim: 512;
  cameraHeadDim: 512;
  /** Pixel-shuffle patch of the point heads (3·14·14 = 588 channels). */
  headPatchSize: 14;
  pointHeadChannels: 588;
}

export interface SpecialTokens {
  /** `<|im_start|>` (151644 in the real vocabulary). */
  bos: number;
  /** `<|im_end|>` (151645). */
  eos: number;
  /** `<|vision_start|>` (151652). */
  startOfImage: number;
  /** `<|vision_end|>` (151653). */
  endOfImage: number;
  /** `<|endoftext|>` (151643). */
  endOfText: number;
  /** "\n" (198): the first decode query (model doc §3.2, pitfall §10.4). */
  decodeStart: number;
  /** Where the ids came from, for messages and the converted manifest. */
  source: 'tokenizer.json' | 'g2vlm-json' | 'qwen2-vl-defaults';
}

export interface G2vlmConfig {
  text: TextConfig;
  vit: VitConfig;
  dino: DinoConfig;
  decoders: DecoderConfig;
  specialTokens: SpecialTokens;
}

/** Real Qwen2-VL special token ids (model doc §1.1). */
export const QWEN2VL_SPECIAL_TOKENS: Omit<SpecialTokens, 'source'> = {
  bos: 151644,
  eos: 151645,
  startOfImage: 151652,
  endOfImage: 151653,
  endOfText: 151643,
  decodeStart: 198,
};

export const CONFIG_FILES = ['text_config.json', 'vit_config.json', 'dino_config.json'] as const;

const FIX_CONFIG = 'Use the configuration files that came with the official G2VLM checkpoint.';

type Json = Record<string, unknown>;

function configError(file: string, detail: string, fix = FIX_CONFIG): StudioError {
  return new StudioError('model-corrupt', `${file}: ${detail}`, fix);
}

async function readJson(dir: string, file: string): Promise<Json> {
  let text: string;
  try {
    text = await fs.readFile(join(dir, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new StudioError(
        'model-missing',
        `The checkpoint folder ${dir} has no ${file}.`,
        'Choose a folder with the official G2VLM files (text_config.json, vit_config.json, dino_config.json, model.safetensors).',
      );
    }
    throw new StudioError(
      'unreadable-path',
      `${join(dir, file)} cannot be read (${code ?? 'error'}).`,
      'Check the permissions.',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw configError(file, 'is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw configError(file, 'is not a JSON object.');
  return parsed as Json;
}

/**
 * Upper bounds on configuration sizes, checked before anything is allocated
 * from them: far above any released G2VLM (the 2B: hidden 1536, 28 layers,
 * vocab 151936, MLP 8960; ViT 1280×32; DINO 1024×24) yet small enough that a
 * corrupt or hostile config (num_hidden_layers 1e9) fails at once.
 */
const SIZE_LIMITS: Record<string, number> = {
  hidden_size: 16384,
  num_hidden_layers: 256,
  depth: 256,
  num_attention_heads: 256,
  num_key_value_heads: 256,
  num_heads: 256,
  intermediate_size: 131072,
  vocab_size: 1_048_576,
  embed_dim: 16384,
  max_position_embeddings: 1_048_576,
  image_size: 4096,
  num_channels: 16,
  in_channels: 16,
  spatial_merge_size: 8,
  temporal_patch_size: 8,
};

function positiveInt(json: Json, file: string, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw configError(file, `${key} must be a positive integer (found ${JSON.stringify(json[key])}).`);
  }
  const limit = SIZE_LIMITS[key];
  if (limit !== undefined && (value as number) > limit) {
    throw configError(
      file,
      `${key} ${value as number} exceeds the supported maximum ${limit}; the file is corrupt or not a G2VLM configuration.`,
    );
  }
  return value as number;
}

function positiveNumber(json: Json, file: string, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw configError(file, `${key} must be a positive number (found ${JSON.stringify(json[key])}).`);
  }
  return value;
}

export function parseTextConfig(json: Json, file = 'text_config.json'): TextConfig {
  const hiddenSize = positiveInt(json, file, 'hidden_size');
  const numHeads = positiveInt(json, file, 'num_attention_heads');
  const numKvHeads = positiveInt(json, file, 'num_key_value_heads', numHeads);
  if (hiddenSize % numHeads !== 0) {
    throw configError(
      file,
      `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}.`,
    );
  }
  const headDim = hiddenSize / numHeads;
  // The M-RoPE sections are hard-coded to [16, 24, 24] (2·64 = 128 channels) in the
  // official attention constructor, whatever the config says: any other head size
  // cannot run the official model (model doc §5.3, pitfall §10.2).
  if (headDim !== 128) {
    throw configError(
      file,
      `the LLM head dimension is ${headDim} (hidden_size ${hiddenSize} / ${numHeads} heads); G2VLM hard-codes M-RoPE sections [16, 24, 24], which need 128.`,
      'Use a G2VLM checkpoint whose LLM has 128-wide attention heads (hidden_size = 128 × num_attention_heads).',
    );
  }
  if (numHeads % numKvHeads !== 0) {
    throw configError(
      file,
      `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}.`,
    );
  }
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu')
    throw configError(file, `hidden_act ${JSON.stringify(act)} is not supported (G2VLM uses silu).`);
  return {
    hiddenSize,
    numLayers: positiveInt(json, file, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: positiveInt(json, file, 'intermediate_size'),
    vocabSize: positiveInt(json, file, 'vocab_size'),
    rmsNormEps: positiveNumber(json, file, 'rms_norm_eps', 1e-6),
    ropeTheta: positiveNumber(json, file, 'rope_theta', 1_000_000),
    maxPositionEmbeddings: positiveInt(json, file, 'max_position_embeddings', 32768),
    mropeSection: [16, 24, 24],
    qkNorm: true,
    tieWordEmbeddings: false,
  };
}

/** Qwen2VLVisionConfig's defaults: the official loader fills absent vit_config.json fields with them. */
const VIT_CONFIG_DEFAULTS = {
  depth: 32,
  embed_dim: 1280,
  hidden_size: 3584,
  num_heads: 16,
  mlp_ratio: 4,
} as const;

export function parseVitConfig(json: Json, file = 'vit_config.json'): VitConfig {
  const embedDim = positiveInt(json, file, 'embed_dim', VIT_CONFIG_DEFAULTS.embed_dim);
  const numHeads = positiveInt(json, file, 'num_heads', VIT_CONFIG_DEFAULTS.num_heads);
  if (embedDim % numHeads !== 0)
    throw configError(file, `embed_dim ${embedDim} is not a multiple of num_heads ${numHeads}.`);
  const headDim = embedDim / numHeads;
  // The 2-D rotary of the vision tower uses head_dim/4 frequencies per axis.
  if (headDim % 4 !== 0)
    throw configError(file, `the vision head dimension ${headDim} is not a multiple of 4.`);
  const mlpRatio = positiveNumber(json, file, 'mlp_ratio', VIT_CONFIG_DEFAULTS.mlp_ratio);
  if (!Number.isInteger(embedDim * mlpRatio) || mlpRatio > 16)
    throw configError(file, `embed_dim × mlp_ratio is not an integer (or mlp_ratio exceeds 16).`);
  const act = json.hidden_act ?? 'quick_gelu';
  if (act !== 'quick_gelu')
    throw configError(file, `hidden_act ${JSON.stringify(act)} is not supported (quick_gelu).`);
  return {
    depth: positiveInt(json, file, 'depth', VIT_CONFIG_DEFAULTS.depth),
    embedDim,
    numHeads,
    headDim,
    outHiddenSize: positiveInt(json, file, 'hidden_size', VIT_CONFIG_DEFAULTS.hidden_size),
    mlpRatio,
    // The official loader sets patch_size = 14 whatever the file says (model doc §1.1).
    patchSize: 14,
    spatialMergeSize: positiveInt(json, file, 'spatial_merge_size', 2),
    temporalPatchSize: positiveInt(json, file, 'temporal_patch_size', 2),
    inChannels: positiveInt(json, file, 'in_channels', 3),
    layerNormEps: 1e-6,
  };
}

export function parseDinoConfig(json: Json, file = 'dino_config.json'): DinoConfig {
  const hiddenSize = positiveInt(json, file, 'hidden_size');
  const numHeads = positiveInt(json, file, 'num_attention_heads');
  if (hiddenSize % numHeads !== 0) {
    throw configError(
      file,
      `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}.`,
    );
  }
  const patchSize = positiveInt(json, file, 'patch_size', 14);
  if (patchSize !== 14) throw configError(file, `patch_size ${patchSize} is not supported (G2VLM uses 14).`);
  const imageSize = positiveInt(json, file, 'image_size', 518);
  if (imageSize % patchSize !== 0)
    throw configError(file, `image_size ${imageSize} is not a multiple of patch_size 14.`);
  const mlpRatio = positiveNumber(json, file, 'mlp_ratio', 4);
  if (!Number.isInteger(hiddenSize * mlpRatio) || mlpRatio > 16)
    throw configError(file, 'hidden_size × mlp_ratio is not an integer (or exceeds 16).');
  if (json.use_swiglu_ffn === true)
    throw configError(file, 'use_swiglu_ffn is not supported (G2VLM uses the GELU MLP).');
  if (json.qkv_bias === false)
    throw configError(file, 'qkv_bias=false is not supported (G2VLM has q/k/v biases).');
  const act = json.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw configError(file, `hidden_act ${JSON.stringify(act)} is not supported (gelu).`);
  const numRegisters = json.num_register_tokens ?? 4;
  if (!Number.isSafeInteger(numRegisters) || (numRegisters as number) < 0 || (numRegisters as number) > 64) {
    throw configError(file, 'num_register_tokens must be an integer in 0..64.');
  }
  return {
    hiddenSize,
    numLayers: positiveInt(json, file, 'num_hidden_layers'),
    numHeads,
    headDim: hiddenSize / numHeads,
    numRegisters: numRegisters as number,
    patchSize,
    imageSize,
    positionGridSide: imageSize / patchSize,
    layerNormEps: positiveNumber(json, file, 'layer_norm_eps', 1e-6),
    mlpRatio,
    mlpHiddenSize: hiddenSize * mlpRatio,
    numChannels: positiveInt(json, file, 'num_channels', 3),
  };
}

export function decoderConfigFor(text: TextConfig): DecoderConfig {
  const width = text.hiddenSize;
  // 16 heads; RoPE2D rotates each half of a head with d/2 frequencies, so the head
  // size must split into two even halves.
  if (width % 64 !== 0) {
    throw configError(
      'text_config.json',
      `hidden_size ${width} cannot feed the geometry decoders (16 heads with 2-D RoPE need a multiple of 64).`,
    );
  }
  return {
    width,
    numHeads: 16,
    headDim: width / 16,
    depth: 5,
    mlpRatio: 4,
    layerNormEps: 1e-6,
    ropeFrequency: 100,
    pointOutDim: 1024,
    globalOutDim: 1024,
    cameraOutDim: 512,
    cameraHeadDim: 512,
    headPatchSize: 14,
    pointHeadChannels: 588,
  };
}

const SPECIAL_TOKEN_STRINGS: Record<keyof Omit<SpecialTokens, 'source' | 'decodeStart'>, string> = {
  bos: '<|im_start|>',
  eos: '<|im_end|>',
  startOfImage: '<|vision_start|>',
  endOfImage: '<|vision_end|>',
  endOfText: '<|endoftext|>',
};

async function readOptionalJson(dir: string, file: string): Promise<Json | undefined> {
  try {
    return await readJson(dir, file);
  } catch (error) {
    if (error instanceof StudioError && error.code === 'model-missing') return undefined;
    throw error;
  }
}

/**
 * Special token ids, from (in order): the folder's tokenizer.json added_tokens,
 * a g2vlm_*.json `special_token_ids` (the golden/bench layout), else the real
 * Qwen2-VL ids.
 */
export async function readSpecialTokens(dir: string, vocabSize: number): Promise<SpecialTokens> {
  let result: SpecialTokens | undefined;
  const tokenizer = await readOptionalJson(dir, 'tokenizer.json');
  if (tokenizer && Array.isArray(tokenizer.added_tokens)) {
    const byContent = new Map<string, number>();
    for (const token of tokenizer.added_tokens as Array<{ id?: unknown; content?: unknown }>) {
      if (typeof token.content === 'string' && Number.isSafeInteger(token.id))
        byContent.set(token.content, token.id as number);
    }
    const ids: Partial<SpecialTokens> = {};
    for (const [key, content] of Object.entries(SPECIAL_TOKEN_STRINGS) as Array<
      [keyof typeof SPECIAL_TOKEN_STRINGS, string]
    >) {
      const id = byContent.get(content);
      if (id === undefined) {
        throw configError(
          'tokenizer.json',
          `has no added token ${content}.`,
          'Use the Qwen2-VL tokenizer files of the checkpoint.',
        );
      }
      ids[key] = id;
    }
    const vocab = (tokenizer.model as { vocab?: Record<string, number> } | undefined)?.vocab;
    const newline = vocab?.['Ċ'];
    result = {
      ...(ids as Omit<SpecialTokens, 'source' | 'decodeStart'>),
      decodeStart: newline ?? 198,
      source: 'tokenizer.json',
    };
  }
  if (!result) {
    const entries = await fs.readdir(dir);
    const g2vlmFile = entries.filter((name) => /^g2vlm_.*\.json$/.test(name)).sort()[0];
    if (g2vlmFile) {
      const json = await readJson(dir, g2vlmFile);
      const ids = json.special_token_ids as Record<string, unknown> | undefined;
      if (ids) {
        const get = (key: string, fallback?: number): number => {
          const value = ids[key] ?? fallback;
          if (!Number.isSafeInteger(value))
            throw configError(g2vlmFile, `special_token_ids.${key} is missing or not an integer.`);
          return value as number;
        };
        result = {
          bos: get('bos_token_id'),
          eos: get('eos_token_id'),
          startOfImage: get('start_of_image'),
          endOfImage: get('end_of_image'),
          endOfText: get('endoftext'),
          decodeStart: get('newline_start_token', 198),
          source: 'g2vlm-json',
        };
      }
    }
  }
  result ??= { ...QWEN2VL_SPECIAL_TOKENS, source: 'qwen2-vl-defaults' };
  for (const [key, id] of Object.entries(result)) {
    if (key !== 'source' && ((id as number) < 0 || (id as number) >= vocabSize)) {
      throw configError(
        'text_config.json',
        `vocab_size ${vocabSize} does not contain the special token ${key} (id ${id}, from ${result.source}).`,
        'Use the tokenizer files that belong to this checkpoint.',
      );
    }
  }
  return result;
}

/** Reads and validates the three config files (and the special token ids) of a checkpoint folder. */
export async function readG2vlmConfig(dir: string): Promise<G2vlmConfig> {
  const [textJson, vitJson, dinoJson] = await Promise.all(CONFIG_FILES.map((file) => readJson(dir, file)));
  const text = parseTextConfig(textJson);
  const vit = parseVitConfig(vitJson);
  const dino = parseDinoConfig(dinoJson);
  if (vit.outHiddenSize !== text.hiddenSize) {
    throw configError(
      'vit_config.json',
      `hidden_size ${vit.outHiddenSize} (the merger output) differs from the LLM hidden_size ${text.hiddenSize} in text_config.json.`,
    );
  }
  return {
    text,
    vit,
    dino,
    decoders: decoderConfigFor(text),
    specialTokens: await readSpecialTokens(dir, text.vocabSize),
  };
}
