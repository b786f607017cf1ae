// The Qwen2 byte-level BPE tokenizer the official G2VLM code uses
// (modeling/qwen2/tokenization_qwen2.py + data/data_utils.add_special_tokens,
// model doc §1.1), on @huggingface/tokenizers. The folder may hold a
// tokenizer.json, or only the slow tokenizer's vocab.json + merges.txt (the
// layout Qwen2Tokenizer loads); then the equivalent tokenizer.json is built here:
// NFC normaliser, Qwen2's split regex, byte-level pre-tokenizer and decoder.
// `encode` adds no BOS/EOS (Qwen2's encode adds none; the chat phases add none).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { StudioError } from '../../common/errors';
import {
  IDENTITY_TOKEN_ID_MAP,
  QWEN2VL_SPECIAL_COUNT,
  QWEN2_FIRST_SPECIAL_ID,
  type TokenIdMap,
} from './token-id-map';

/** The 14 Qwen2-VL special tokens, ids 151643.. in this order. */
export const QWEN2VL_SPECIAL_TOKENS: readonly string[] = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|object_ref_start|>',
  '<|object_ref_end|>',
  '<|box_start|>',
  '<|box_end|>',
  '<|quad_start|>',
  '<|quad_end|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|vision_pad|>',
  '<|image_pad|>',
  '<|video_pad|>',
];

/** Qwen2's pre-tokenisation regex (tokenization_qwen2.PRETOKENIZE_REGEX). */
export const QWEN2_SPLIT_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The official `new_token_ids` (add_special_tokens), in real Qwen2 ids. */
export interface ChatSpecialTokens {
  bos: number;
  eos: number;
  startOfImage: number;
  endOfImage: number;
  endOfText: number;
  /** "\n": the first decode query (model doc §3.2). */
  decodeStart: number;
}

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of tokenizer.json this module reads or builds. */
export interface TokenizerJson {
  added_tokens: AddedTokenJson[];
  model: { type: string; vocab: Record<string, number>; merges: Array<string | [string, string]> } & Record<
    string,
    unknown
  >;
  [key: string]: unknown;
}

const MISSING_FIX =
  'Put the tokenizer files of the checkpoint (tokenizer.json, or vocab.json and merges.txt) next to the model and convert it again.';

function specialToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** tokenizer.json for the Qwen2 byte-level BPE, from the slow tokenizer's files. */
export function buildQwen2TokenizerJson(vocab: Record<string, number>, mergesText: string): TokenizerJson {
  const merges = mergesText
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    // The first line of merges.txt is a "#version" header; blank lines carry nothing.
    .filter((line, index) => line.length > 0 && !(index === 0 && line.startsWith('#version')));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * Ensures the Qwen2-VL special tokens are added tokens (what add_special_tokens
 * guarantees for bos/eos/vision start/end); existing entries are kept.
 */
export function withQwen2VlSpecialTokens(json: TokenizerJson): TokenizerJson {
  const present = new Set(json.added_tokens.map((t) => t.content));
  const added = [...json.added_tokens];
  QWEN2VL_SPECIAL_TOKENS.forEach((content, k) => {
    if (!present.has(content)) added.push(specialToken(QWEN2_FIRST_SPECIAL_ID + k, content));
  });
  added.sort((a, b) => a.id - b.id);
  return { ...json, added_tokens: added };
}

export class Qwen2Tokenizer {
  /** Special ids in the checkpoint's id space. */
  readonly special: ChatSpecialTokens;
  readonly idMap: TokenIdMap;
  private readonly tokenizer: Tokenizer;

  constructor(json: TokenizerJson, idMap: TokenIdMap = IDENTITY_TOKEN_ID_MAP) {
    const full = withQwen2VlSpecialTokens(json);
    this.tokenizer = new Tokenizer(full, { clean_up_tokenization_spaces: false, add_bos_token: false });
    this.idMap = idMap;
    const idOf = (content: string): number => {
      const id = this.tokenizer.token_to_id(content);
      if (id === undefined)
        throw new StudioError('model-corrupt', `The tokenizer has no token ${content}.`, MISSING_FIX);
      return idMap.toModel(id);
    };
    this.special = {
      bos: idOf('<|im_start|>'),
      eos: idOf('<|im_end|>'),
      startOfImage: idOf('<|vision_start|>'),
      endOfImage: idOf('<|vision_end|>'),
      endOfText: idOf('<|endoftext|>'),
      decodeStart: idOf('Ċ'),
    };
  }

  /** Real Qwen2 ids of `text` (special-token text such as `<|im_end|>` becomes its special id). */
  encodeReal(text: string): number[] {
    if (text.length === 0) return [];
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Checkpoint ids of `text`, no BOS/EOS added. */
  encode(text: string): number[] {
    return this.encodeReal(text).map((id) => this.idMap.toModel(id));
  }

  /** Text of real Qwen2 ids (special tokens are kept as their text). */
  decodeReal(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
  }

  /** Text of checkpoint ids; ids without text (unused rows of a test vocabulary) are dropped. */
  decode(ids: readonly number[]): string {
    const real: number[] = [];
    for (const id of ids) {
      const r = this.idMap.toReal(id);
      if (r !== undefined && (r < QWEN2_FIRST_SPECIAL_ID + QWEN2VL_SPECIAL_COUNT || this.hasId(r)))
        real.push(r);
    }
    return this.decodeReal(real);
  }

  private hasId(id: number): boolean {
    return this.tokenizer.id_to_token(id) !== undefined;
  }
}

async function readJsonFile<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch (error) {
    throw new StudioError(
      'model-corrupt',
      `The tokenizer file ${path} cannot be read as JSON.`,
      MISSING_FIX,
      {
        cause: error,
      },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/** The tokenizer.json of a folder (its own, or built from vocab.json + merges.txt); looks in `dir` and `dir/tokenizer`. */
export async function readTokenizerJson(dir: string): Promise<TokenizerJson> {
  for (const folder of [dir, join(dir, 'tokenizer')]) {
    if (await exists(join(folder, 'tokenizer.json'))) {
      return readJsonFile<TokenizerJson>(join(folder, 'tokenizer.json'));
    }
    if ((await exists(join(folder, 'vocab.json'))) && (await exists(join(folder, 'merges.txt')))) {
      const vocab = await readJsonFile<Record<string, number>>(join(folder, 'vocab.json'));
      const merges = await fs.readFile(join(folder, 'merges.txt'), 'utf8');
      const json = buildQwen2TokenizerJson(vocab, merges);
      // tokenizer_config.json lists the added tokens of the slow tokenizer.
      const configPath = join(folder, 'tokenizer_config.json');
      if (await exists(configPath)) {
        const config = await readJsonFile<{ added_tokens_decoder?: Record<string, Partial<AddedTokenJson>> }>(
          configPath,
        );
        for (const [id, token] of Object.entries(config.added_tokens_decoder ?? {})) {
          if (typeof token.content === 'string')
            json.added_tokens.push(specialToken(Number(id), token.content));
        }
      }
      return json;
    }
  }
  throw new StudioError('model-missing', `No tokenizer was found in ${dir}.`, MISSING_FIX);
}

export async function loadQwen2Tokenizer(
  dir: string,
  idMap: TokenIdMap = IDENTITY_TOKEN_ID_MAP,
): Promise<Qwen2Tokenizer> {
  return new Qwen2Tokenizer(await readTokenizerJson(dir), idMap);
}
