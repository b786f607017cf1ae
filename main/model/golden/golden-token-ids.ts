// The token ids a golden folder states (its README: "no tokenizer is needed").
// verify-golden feeds these instead of re-deriving them, so a golden set whose
// test vocabulary folds ordinary ids by a different number than its
// `<|endoftext|>` id still verifies. `token_id_mapping` is either prose, as in
// g2vlm-tiny-a ("ordinary id -> id % 1000; special 151643+k -> 1000+k"), or an
// object { ordinary_modulus, special_base }; both numbers are read separately.
import { StudioError } from '../../common/errors';
import { testVocabularyIdMap, type TokenIdMap } from '../tokenizer/token-id-map';
import type { GoldenManifest } from './golden-types';

export interface GoldenTokenIdMapping {
  /** Ordinary Qwen2 id → id % ordinaryModulus. */
  ordinaryModulus: number;
  /** Special id 151643 + k → specialBase + k. */
  specialBase: number;
}

const BAD_MAPPING_FIX =
  'Give token_id_mapping as { "ordinary_modulus": M, "special_base": B } or state the ids in the manifest.';

/** The manifest's test-vocabulary mapping, or undefined when it states none (real vocabulary). */
export function goldenTokenIdMapping(manifest: GoldenManifest): GoldenTokenIdMapping | undefined {
  const raw: unknown = (manifest as unknown as Record<string, unknown>).token_id_mapping;
  if (raw === undefined || raw === null) return undefined;
  let modulus: number | undefined;
  let base: number | undefined;
  if (typeof raw === 'string') {
    modulus = Number(/id\s*%\s*(\d+)/.exec(raw)?.[1]);
    base = Number(/151643\s*\+\s*k\s*->\s*(\d+)\s*\+\s*k/.exec(raw)?.[1]);
  } else if (typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    modulus = typeof o.ordinary_modulus === 'number' ? o.ordinary_modulus : undefined;
    base = typeof o.special_base === 'number' ? o.special_base : undefined;
  }
  if (!Number.isSafeInteger(modulus) || !Number.isSafeInteger(base) || modulus! <= 0 || modulus! > base!) {
    throw new StudioError(
      'invalid-input',
      `The golden manifest's token_id_mapping (${JSON.stringify(raw).slice(0, 200)}) does not state an ordinary-id modulus and a special-token base.`,
      BAD_MAPPING_FIX,
    );
  }
  return { ordinaryModulus: modulus!, specialBase: base! };
}

export function goldenTokenIdMap(manifest: GoldenManifest): TokenIdMap | undefined {
  const mapping = goldenTokenIdMapping(manifest);
  return mapping && testVocabularyIdMap(mapping.specialBase, mapping.ordinaryModulus);
}

function idList(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v))
    ? (value as number[])
    : undefined;
}

/**
 * Ids of a golden section (`recon` or `chat`) for one text (`prompt`, `system`):
 * the `<text>_tiny_ids` the manifest gives, else its `<text>_real_qwen2_ids`
 * through the stated mapping (identity without one); undefined when it states neither.
 */
export function goldenSectionIds(
  manifest: GoldenManifest,
  section: Record<string, unknown> | undefined,
  text: 'prompt' | 'system',
): number[] | undefined {
  if (!section) return undefined;
  const given = idList(section[`${text}_tiny_ids`]);
  if (given) return given;
  const real = idList(section[`${text}_real_qwen2_ids`]);
  if (!real) return undefined;
  const map = goldenTokenIdMap(manifest);
  return map ? real.map((id) => map.toModel(id)) : real;
}
