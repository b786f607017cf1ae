// The token layout of G2VLM.chat_with_recon (model doc §3.2), phase by phase,
// with the M-RoPE positions of every row (doc §5.2, pitfalls 3 and 4):
//   1. system text (causal, und), no extra BOS;
//   2. geometry block: per image <|vision_start|>, h·w DINO rows (geo), <|vision_end|>
//      — one non-causal block for all images; the counter advances by max(h, w);
//   3. per image a ViT block: <|vision_start|>, merged ViT rows, <|vision_end|>
//      (non-causal, und); the counter advances by max(h', w') of the MERGED grid;
//   4. question + '<|im_end|>\n<|im_start|>assistant' (causal, und);
//   5. decode from "\n", one query per step at positions p0, p0 + 1, …
import { PositionCounter, concatPositions } from '../g2vlm/mrope';

export interface ChatLayoutInput {
  systemIds: number[];
  /** DINO patch grid (h, w) of each chat image (all images share the first image's size). */
  geometryGrids: Array<[number, number]>;
  /** Unmerged ViT patch grid (gh, gw) of each chat image. */
  visionGrids: Array<[number, number]>;
  mergeSize: number;
  questionIds: number[];
  startOfImage: number;
  endOfImage: number;
}

/** A row of an image block is either a token id or a slot filled with image embeddings. */
export interface ImageBlockLayout {
  /** 3×L positions (t row, h row, w row). */
  positions: Int32Array;
  rows: number;
  /** Per image: the block row of its first image token and the token count. */
  images: Array<{ firstRow: number; tokens: number }>;
}

export interface ChatLayout {
  system: { ids: number[]; positions: Int32Array };
  geometry: ImageBlockLayout;
  vision: ImageBlockLayout[];
  question: { ids: number[]; positions: Int32Array };
  /** Position of the first decode query ("\n"); step k is at decodeStart + k. */
  decodeStart: number;
  /** Rows of the prefix that can be reused across questions (system + geometry + vision). */
  prefixRows: number;
  totalPrefillRows: number;
}

function imageBlock(counter: PositionCounter, grids: Array<[number, number]>): ImageBlockLayout {
  const parts: Int32Array[] = [];
  const images: ImageBlockLayout['images'] = [];
  let rows = 0;
  for (const [h, w] of grids) {
    parts.push(counter.text(1));
    images.push({ firstRow: rows + 1, tokens: h * w });
    parts.push(counter.grid(h, w));
    parts.push(counter.text(1));
    rows += h * w + 2;
  }
  return { positions: concatPositions(parts), rows, images };
}

export function buildChatLayout(input: ChatLayoutInput): ChatLayout {
  const counter = new PositionCounter(0);
  const system = { ids: input.systemIds, positions: counter.text(input.systemIds.length) };
  const geometry = imageBlock(counter, input.geometryGrids);
  const vision = input.visionGrids.map(([gh, gw]) =>
    imageBlock(counter, [[gh / input.mergeSize, gw / input.mergeSize]]),
  );
  const prefixRows = system.ids.length + geometry.rows + vision.reduce((n, v) => n + v.rows, 0);
  const question = { ids: input.questionIds, positions: counter.text(input.questionIds.length) };
  return {
    system,
    geometry,
    vision,
    question,
    decodeStart: counter.next,
    prefixRows,
    totalPrefillRows: prefixRows + question.ids.length,
  };
}

/** The positions of the whole prefill (system, geometry, vision blocks, question), 3×L. */
export function prefillPositions(layout: ChatLayout): Int32Array {
  return concatPositions([
    layout.system.positions,
    layout.geometry.positions,
    ...layout.vision.map((v) => v.positions),
    layout.question.positions,
  ]);
}

/** Token ids of an image block with image slots left as -1 (filled with embeddings). */
export function imageBlockTokenIds(
  block: ImageBlockLayout,
  startOfImage: number,
  endOfImage: number,
): number[] {
  const ids = new Array<number>(block.rows).fill(-1);
  for (const image of block.images) {
    ids[image.firstRow - 1] = startOfImage;
    ids[image.firstRow + image.tokens] = endOfImage;
  }
  return ids;
}

/** The official system prompt (prepare_prompts_pure_text: no BOS added). */
export const CHAT_SYSTEM_PROMPT =
  '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n';
/** Appended to the question; no newline after "assistant" (decode starts from "\n"). */
export const CHAT_QUESTION_SUFFIX = '<|im_end|>\n<|im_start|>assistant';
/** The official evaluation template around a question (inference_chat.py). */
export const CHAT_ANSWER_HINT = 'Please answer the question using a single word or phrase.';
