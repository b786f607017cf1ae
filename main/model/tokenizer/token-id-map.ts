// Maps ids of the real Qwen2-VL vocabulary to the ids a checkpoint's embedding
// table uses. Real checkpoints use the real ids (identity). Test checkpoints with
// a shrunken vocabulary (the golden g2vlm-tiny-a: vocab 1024) follow the golden
// set's convention (golden manifest `token_id_mapping`): an ordinary id maps to
// `id % base` and the k-th special token (151643 + k) to `base + k`, where
// `base` is the checkpoint's `<|endoftext|>` id (1000 for tiny-a). That mapping
// is many-to-one, so text decoded from such a model is only indicative — it
// exists so the tiny model reproduces the golden prompt ids from text.

/** First special id of the Qwen2 vocabulary (`<|endoftext|>`); ordinary tokens are below it. */
export const QWEN2_FIRST_SPECIAL_ID = 151643;
/** Qwen2-VL special tokens: 151643 `<|endoftext|>` … 151656 `<|video_pad|>`. */
export const QWEN2VL_SPECIAL_COUNT = 14;

export interface TokenIdMap {
  readonly kind: 'identity' | 'test-vocabulary';
  /** Real Qwen2 id → checkpoint id. */
  toModel(realId: number): number;
  /** Checkpoint id → real Qwen2 id (undefined when the id has no text, e.g. unused rows of a test vocabulary). */
  toReal(modelId: number): number | undefined;
}

export const IDENTITY_TOKEN_ID_MAP: TokenIdMap = {
  kind: 'identity',
  toModel: (id) => id,
  toReal: (id) => id,
};

/**
 * The golden test-vocabulary convention: an ordinary id maps to `id % modulus`,
 * the k-th special token to `base + k`, where `base` = the checkpoint's
 * `<|endoftext|>` id. The golden manifest states the two numbers separately;
 * they are equal for g2vlm-tiny-a, so `modulus` defaults to `base`.
 */
export function testVocabularyIdMap(base: number, modulus: number = base): TokenIdMap {
  if (!Number.isSafeInteger(base) || base <= 0)
    throw new RangeError(`test vocabulary base must be positive, got ${base}`);
  if (!Number.isSafeInteger(modulus) || modulus <= 0 || modulus > base)
    throw new RangeError(`test vocabulary modulus must be in 1..${base}, got ${modulus}`);
  return {
    kind: 'test-vocabulary',
    toModel: (id) => (id >= QWEN2_FIRST_SPECIAL_ID ? base + (id - QWEN2_FIRST_SPECIAL_ID) : id % modulus),
    toReal: (id) => {
      if (id < modulus) return id;
      if (id < base) return undefined;
      const k = id - base;
      return k < QWEN2VL_SPECIAL_COUNT ? QWEN2_FIRST_SPECIAL_ID + k : undefined;
    },
  };
}

/**
 * The map a checkpoint needs: identity when its vocabulary holds the real ids,
 * the test-vocabulary convention when it is smaller than the Qwen2 vocabulary.
 */
export function tokenIdMapFor(modelVocabSize: number, modelEndOfTextId: number): TokenIdMap {
  if (modelVocabSize > QWEN2_FIRST_SPECIAL_ID + QWEN2VL_SPECIAL_COUNT - 1) return IDENTITY_TOKEN_ID_MAP;
  return testVocabularyIdMap(modelEndOfTextId);
}
