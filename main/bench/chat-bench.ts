// Chat (spatial Q&A) speed: prefill, decode tokens/s, time to first token with
// and without the per-scene prefix reuse, on the golden tiny model (1 image at
// 240 px, its golden question) and on the shared "medium" configuration with
// random weights (2 images at 240 px and at the official 768 px, 16 greedy decode
// steps), compared with the official PyTorch figures of
// /work/shared/bench/g2vlm-medium/README.md (medium 240 px: prefill 2.60 s,
// decode 26.7 ms/token; 768 px: 7.10 s, 43.1 ms/token — the official decode
// rebuilds the KV cache at every step; ours appends one row).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure, BenchSection } from './bench-types';
import { generateRandomCheckpoint } from '../model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../model/convert/convert-checkpoint';
import { CHAT_QUESTION_SUFFIX, CHAT_SYSTEM_PROMPT } from '../model/chat/chat-layout';
import { ChatModel } from '../model/chat/chat-model';
import { releaseChatModel, runChatOn } from '../model/chat/chat-pipeline';
import type { ChatRequest } from '../model/engine/engine-types';
import { answerQuestion, prefillPrefix } from '../model/chat/chat-session';
import { decodeRgbImage, type RgbImage } from '../model/preprocess/qwen-image';
import { SHARED_DIR } from './shared-dir';
import { BENCH_QUESTION as QUESTION, TOKENIZER_TEST_DATA, ensureTestTokenizer } from './chat-probe';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const SAMPLES = `${SHARED_DIR}/samples/arkitscenes`;
const OFFICIAL_MEDIUM_240 = { prefillMs: 2600, decodeMsPerToken: 26.7 };
const OFFICIAL_MEDIUM_768 = { prefillMs: 7100, decodeMsPerToken: 43.1 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface ChatTimings {
  prefillMs: number;
  decodeMsPerToken: number;
  /** CPU time of the prefix prefill summed over all threads (separates our cost from machine contention). */
  prefillCpuMs: number;
  /** CPU time per decode step, all threads. */
  decodeCpuMsPerToken: number;
  /** The same decode through the general LLM block graph (past/present KV copies). */
  generalDecodeMsPerToken: number;
  firstTokenColdMs: number;
  firstTokenReusedMs: number;
}

/** One cold question (full prefill) and one on the reused prefix; medians over `repeats`. */
async function measure(
  model: ChatModel,
  images: RgbImage[],
  steps: number,
  repeats: number,
  visionImageSize = 240,
): Promise<ChatTimings> {
  const tokenizer = model.tokenizer!;
  const systemIds = tokenizer.encode(CHAT_SYSTEM_PROMPT);
  const questionIds = tokenizer.encode(QUESTION + CHAT_QUESTION_SUFFIX);
  const runs: ChatTimings[] = [];
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const prefix = await prefillPrefix(model, { systemIds, images, visionImageSize });
    const cpu = process.cpuUsage(cpu0);
    const prefillCpuMs = (cpu.user + cpu.system) / 1000;
    const cold = await answerQuestion(model, prefix, questionIds, { maxNewTokens: steps, ignoreEos: true });
    const prefillMs = performance.now() - t0 - cold.timingsMs.decode;
    const firstTokenColdMs =
      prefillMs + (cold.timingsMs.firstTokenAfterQuestion - cold.timingsMs.questionPrefill);
    const warm = await answerQuestion(model, prefix, questionIds, { maxNewTokens: 1, ignoreEos: true });
    // The first decode step is part of time-to-first-token, not of the per-token rate.
    const perToken = (a: typeof cold): number =>
      (a.timingsMs.decode - a.timingsMs.firstStep) / Math.max(1, a.stepChoices.length - 1);
    // CPU time of decode steps alone (no question block): separates our cost from machine contention.
    const cpuBefore = process.cpuUsage();
    const decodeOnly = await answerQuestion(model, prefix, [], { maxNewTokens: steps, ignoreEos: true });
    const cpuUsed = process.cpuUsage(cpuBefore);
    const decodeCpuMsPerToken = (cpuUsed.user + cpuUsed.system) / 1000 / decodeOnly.stepChoices.length;
    const general = await answerQuestion(model, prefix, questionIds, {
      maxNewTokens: steps,
      ignoreEos: true,
      useDecodeGraph: false,
    });
    if (r > 0)
      runs.push({
        prefillMs,
        prefillCpuMs,
        decodeCpuMsPerToken,
        decodeMsPerToken: perToken(cold),
        generalDecodeMsPerToken: perToken(general),
        firstTokenColdMs,
        firstTokenReusedMs: warm.timingsMs.firstTokenAfterQuestion,
      });
  }
  return {
    prefillMs: median(runs.map((x) => x.prefillMs)),
    prefillCpuMs: median(runs.map((x) => x.prefillCpuMs)),
    decodeCpuMsPerToken: median(runs.map((x) => x.decodeCpuMsPerToken)),
    decodeMsPerToken: median(runs.map((x) => x.decodeMsPerToken)),
    generalDecodeMsPerToken: median(runs.map((x) => x.generalDecodeMsPerToken)),
    firstTokenColdMs: median(runs.map((x) => x.firstTokenColdMs)),
    firstTokenReusedMs: median(runs.map((x) => x.firstTokenReusedMs)),
  };
}

function figures(prefix: string, t: ChatTimings, official?: typeof OFFICIAL_MEDIUM_240): BenchFigure[] {
  const out: BenchFigure[] = [
    {
      label: `${prefix}: prefill (system + geometry + vision + question)`,
      value: t.prefillMs / 1000,
      unit: 's',
      ...(official
        ? {
            baseline: {
              label: 'official PyTorch (published, same machine kind)',
              value: official.prefillMs / 1000,
            },
            ratio: official.prefillMs / t.prefillMs,
          }
        : {}),
    },
    { label: `${prefix}: prefix prefill CPU time (all threads)`, value: t.prefillCpuMs / 1000, unit: 's' },
    {
      label: `${prefix}: decode`,
      value: t.decodeMsPerToken,
      unit: 'ms/token',
      ...(official
        ? {
            baseline: { label: 'official PyTorch (published)', value: official.decodeMsPerToken },
            ratio: official.decodeMsPerToken / t.decodeMsPerToken,
          }
        : {}),
    },
    {
      label: `${prefix}: decode, one-step graph vs general LLM graph`,
      value: t.decodeMsPerToken,
      unit: 'ms/token',
      baseline: { label: 'general LLM block graph (same run)', value: t.generalDecodeMsPerToken },
      ratio: t.generalDecodeMsPerToken / t.decodeMsPerToken,
    },
    { label: `${prefix}: decode rate`, value: 1000 / t.decodeMsPerToken, unit: 'tokens/s' },
    { label: `${prefix}: decode CPU time (all threads)`, value: t.decodeCpuMsPerToken, unit: 'ms/token' },
    { label: `${prefix}: time to first token, cold scene`, value: t.firstTokenColdMs, unit: 'ms' },
    {
      label: `${prefix}: time to first token, scene prefix reused`,
      value: t.firstTokenReusedMs,
      unit: 'ms',
      baseline: { label: 'cold scene (same run)', value: t.firstTokenColdMs },
      ratio: t.firstTokenColdMs / t.firstTokenReusedMs,
    },
  ];
  return out;
}

/** A question after a restart: the scene prefix read from disk vs computed (through runChatOn, 240 px). */
async function diskPrefixFigure(
  model: ChatModel,
  frameBytes: Buffer[],
  scratch: string,
): Promise<BenchFigure> {
  const prefixDiskDir = join(scratch, 'prefixes');
  const request: ChatRequest = {
    modelDir: model.modelDir,
    frames: frameBytes.map((bytes, i) => ({ bytes, name: `frame ${i}` })),
    question: QUESTION,
    maxNewTokens: 1,
    prefixCacheKey: 'bench-scene',
  };
  const tuning = { visionImageSize: 240, prefixDiskDir };
  const computed = await runChatOn(model, request, {}, tuning);
  await releaseChatModel(); // drops the in-memory prefixes, as a restart would
  const fromDisk = await runChatOn(model, request, {}, tuning);
  await releaseChatModel();
  return {
    label: 'medium, 2 images 240 px: time to first token after a restart, scene prefix on disk',
    value: fromDisk.timingsMs.timeToFirstToken,
    unit: 'ms',
    baseline: { label: 'prefix computed (same run)', value: computed.timingsMs.timeToFirstToken },
    ratio: computed.timingsMs.timeToFirstToken / fromDisk.timingsMs.timeToFirstToken,
  };
}

export async function runChatBench(): Promise<BenchSection> {
  const scratch = mkdtempSync(join(tmpdir(), 'g2-chat-bench-'));
  const notes: string[] = [
    'Ratios above 1 mean faster than the baseline. Official figures are the published PyTorch float32 numbers (2 threads); ours run ONNX Runtime CPU float32 in this process.',
    'Decode appends one row to the KV cache per token and runs the LM head on that row only; the official decode re-runs the cache build every step.',
  ];
  const result: BenchFigure[] = [];
  try {
    if (!existsSync(TOKENIZER_TEST_DATA))
      throw new Error(`tokenizer test data missing: ${TOKENIZER_TEST_DATA}`);

    // Tiny golden model: 1 image (1296×968 JPEG) at 240 px, 8 steps.
    const tinyDir = join(scratch, 'tiny');
    await convertCheckpoint(join(GOLDEN, 'checkpoint'), tinyDir);
    ensureTestTokenizer(tinyDir);
    const tiny = await ChatModel.load(tinyDir);
    const goldenImage = await decodeRgbImage(readFileSync(join(GOLDEN, 'inputs/images/25_0.jpg')));
    result.push(...figures('tiny-a, 1 image 240 px', await measure(tiny, [goldenImage], 8, 3)));
    await tiny.release();

    // Medium random checkpoint: 2 ARKitScenes frames at 240 px, 16 greedy steps.
    const checkpointDir = join(scratch, 'medium-checkpoint');
    await generateRandomCheckpoint(checkpointDir, 'medium', { seed: 1, dtype: 'F32' });
    const mediumDir = join(scratch, 'medium');
    await convertCheckpoint(checkpointDir, mediumDir);
    rmSync(checkpointDir, { recursive: true, force: true });
    ensureTestTokenizer(mediumDir);
    const medium = await ChatModel.load(mediumDir);
    const frames = ['47333851_74735.839.jpg', '47333851_74739.171.jpg'];
    const images = await Promise.all(
      frames.map(async (f) => decodeRgbImage(readFileSync(join(SAMPLES, f)), f)),
    );
    result.push(
      ...figures('medium, 2 images 240 px', await measure(medium, images, 16, 3), OFFICIAL_MEDIUM_240),
    );
    result.push(
      ...figures('medium, 2 images 768 px', await measure(medium, images, 16, 1, 768), OFFICIAL_MEDIUM_768),
    );
    result.push(
      await diskPrefixFigure(
        medium,
        frames.map((f) => readFileSync(join(SAMPLES, f))),
        scratch,
      ),
    );
    await medium.release();

    result.push({
      label: 'peak RSS of the bench process',
      value: process.resourceUsage().maxRSS / 1024,
      unit: 'MiB',
    });
    return { name: 'chat', figures: result, notes };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
