// The catalog of known G2VLM checkpoints (native-models/catalog.json): where to
// download each one, its licence, the configuration to expect and the graphs the
// runtime builds for it. The JSON is bundled into the build; it is validated here
// so a bad edit fails loudly in tests, not at a user's download.

import { z } from 'zod';
import catalogJson from '../../../native-models/catalog.json';
import { StudioError } from '../../common/errors';
import type { G2vlmConfig } from './config';

const positive = z.number().int().positive();

const textSchema = z.object({
  hiddenSize: positive,
  numLayers: positive,
  numHeads: positive,
  numKvHeads: positive,
  headDim: z.literal(128),
  intermediateSize: positive,
  vocabSize: positive,
  rmsNormEps: z.number().positive(),
  ropeTheta: z.number().positive(),
  mropeSection: z.tuple([z.literal(16), z.literal(24), z.literal(24)]),
  qkNorm: z.literal(true),
  tieWordEmbeddings: z.literal(false),
});
const vitSchema = z.object({
  depth: positive,
  embedDim: positive,
  numHeads: positive,
  headDim: positive,
  outHiddenSize: positive,
  mlpRatio: z.number().positive(),
  patchSize: z.literal(14),
  spatialMergeSize: positive,
  temporalPatchSize: positive,
  inChannels: positive,
  layerNormEps: z.number().positive(),
});
const dinoSchema = z.object({
  hiddenSize: positive,
  numLayers: positive,
  numHeads: positive,
  headDim: positive,
  numRegisters: z.number().int().nonnegative(),
  patchSize: z.literal(14),
  imageSize: positive,
  positionGridSide: positive,
  layerNormEps: z.number().positive(),
  mlpRatio: z.number().positive(),
  mlpHiddenSize: positive,
  numChannels: positive,
});
const decoderSchema = z.object({
  width: positive,
  numHeads: z.literal(16),
  headDim: positive,
  depth: z.literal(5),
  mlpRatio: z.literal(4),
  layerNormEps: z.number().positive(),
  ropeFrequency: z.literal(100),
  pointOutDim: z.literal(1024),
  globalOutDim: z.literal(1024),
  cameraOutDim: z.literal(512),
  cameraHeadDim: z.literal(512),
  headPatchSize: z.literal(14),
  pointHeadChannels: z.literal(588),
});
const specialTokensSchema = z.object({
  bos: z.number().int().nonnegative(),
  eos: z.number().int().nonnegative(),
  startOfImage: z.number().int().nonnegative(),
  endOfImage: z.number().int().nonnegative(),
  endOfText: z.number().int().nonnegative(),
  decodeStart: z.number().int().nonnegative(),
});

/** The configuration part of a catalog entry; also the shape a parsed checkpoint config must have. */
export const expectedConfigSchema = z.object({
  text: textSchema,
  vit: vitSchema,
  dino: dinoSchema,
  decoders: decoderSchema,
  specialTokens: specialTokensSchema,
});

/** The graph ids the converter writes (main/model/runtime/model-manifest.ts GraphId). */
export const CATALOG_GRAPH_IDS = [
  'dino',
  'embed_tokens',
  'llm_causal',
  'llm_block',
  'lm_head',
  'point_decoder',
  'camera_decoder',
  'global_decoder',
  'vision_tower',
] as const;

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string().min(1),
  hub: z
    .object({ id: z.string().regex(/^[\w.-]+\/[\w.-]+$/), revision: z.string().min(1), url: z.url() })
    .passthrough(),
  code: z.object({ repo: z.url(), commit: z.string().regex(/^[0-9a-f]{7,40}$/) }),
  licence: z.object({ spdx: z.string().min(1), source: z.string().min(1) }),
  parameterCount: positive,
  files: z
    .array(
      z.object({
        path: z.string().min(1),
        required: z.boolean(),
        dtype: z.enum(['F32', 'BF16', 'F16']).optional(),
        approxBytes: positive.optional(),
        note: z.string().optional(),
      }),
    )
    .min(1),
  expectedConfig: expectedConfigSchema,
  capabilities: z.object({ reconstruct: z.boolean(), chat: z.boolean() }),
  graphs: z.array(z.object({ id: z.enum(CATALOG_GRAPH_IDS), what: z.string().min(1) })).min(1),
});

export const catalogSchema = z.object({
  format_version: z.literal(1),
  note: z.string().optional(),
  models: z.array(entrySchema).min(1),
});

export type CatalogJson = z.infer<typeof catalogSchema>;
export type CatalogEntryJson = z.infer<typeof entrySchema>;

export interface CatalogModel {
  id: string;
  name: string;
  hubId: string;
  revision: string;
  licence: string;
  parameterCount: number;
  /** Bytes of the weight files, as listed (approximate where the catalog says so). */
  weightsBytes: number;
  entry: CatalogEntryJson;
  /** Whether a parsed checkpoint configuration is this model's (special token ids excluded). */
  matches(config: G2vlmConfig): boolean;
}

export interface ModelCatalog {
  raw: CatalogJson;
  models: CatalogModel[];
}

function sameValues(expected: Record<string, unknown>, actual: Record<string, unknown>): boolean {
  return Object.entries(expected).every(
    ([key, value]) => JSON.stringify(value) === JSON.stringify(actual[key]),
  );
}

export function parseModelCatalog(json: unknown): ModelCatalog {
  const parsed = catalogSchema.safeParse(json);
  if (!parsed.success) {
    throw new StudioError(
      'internal',
      `native-models/catalog.json is invalid: ${parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}.`,
      'Restore native-models/catalog.json from the release.',
    );
  }
  const raw = parsed.data;
  return {
    raw,
    models: raw.models.map((entry) => ({
      id: entry.id,
      name: entry.name,
      hubId: entry.hub.id,
      revision: entry.hub.revision,
      licence: entry.licence.spdx,
      parameterCount: entry.parameterCount,
      weightsBytes: entry.files.reduce((sum, file) => sum + (file.dtype ? (file.approxBytes ?? 0) : 0), 0),
      entry,
      matches: (config) =>
        sameValues(entry.expectedConfig.text, config.text as unknown as Record<string, unknown>) &&
        sameValues(entry.expectedConfig.vit, config.vit as unknown as Record<string, unknown>) &&
        sameValues(entry.expectedConfig.dino, config.dino as unknown as Record<string, unknown>) &&
        sameValues(entry.expectedConfig.decoders, config.decoders as unknown as Record<string, unknown>),
    })),
  };
}

let cached: ModelCatalog | undefined;

/** The bundled catalog (validated once). */
export function modelCatalog(): ModelCatalog {
  cached ??= parseModelCatalog(catalogJson);
  return cached;
}
