// Pipelines for the engine-client tests, loaded INSIDE the real engine worker
// (EngineClient `pipelines` option). They run real ONNX Runtime sessions (a
// MatMul per frame) so the tests exercise the worker protocol, progress,
// cancellation between ORT runs, transfer of large typed arrays and error
// crossing, independently of the G2VLM graphs.

import * as ort from 'onnxruntime-node';
import { StudioError, cancelledError } from '../../../../main/common/errors';
import type {
  ChatOutput,
  ChatRequest,
  EngineProgress,
  ReconstructionOutput,
  ReconstructRequest,
} from '../../../../main/model/engine/engine-types';
import { matmulModel } from '../../../../main/bench/model-bench';

export const TEST_MAP_WIDTH = 64;
export const TEST_MAP_HEIGHT = 32;
export const MATMUL_SIZE = 256;

/** Deterministic inputs the test can recompute: a[i] = (i % 7) - 3, b[i] = (i % 5) - 2. */
export function testMatrices(size: number): { a: Float32Array; b: Float32Array } {
  const a = new Float32Array(size * size).map((_, i) => (i % 7) - 3);
  const b = new Float32Array(size * size).map((_, i) => (i % 5) - 2);
  return { a, b };
}

/** Side of the MatMul a 'long-run' frame runs: one ONNX Runtime run of about a second or more. */
export const LONG_RUN_SIZE = 2500;

/**
 * `frames[i].name` steers the run: 'fail' throws a StudioError, 'hang' blocks the
 * thread in JavaScript, 'long-run' blocks it in one long ONNX Runtime run (as the
 * real geometry prefill does), anything else runs a MatMul.
 */
export async function runReconstruction(
  request: ReconstructRequest,
  options: { signal: AbortSignal; onProgress: (p: EngineProgress) => void },
): Promise<ReconstructionOutput> {
  const session = await ort.InferenceSession.create(matmulModel(MATMUL_SIZE, MATMUL_SIZE, MATMUL_SIZE), {
    intraOpNumThreads: 1,
  });
  const { a, b } = testMatrices(MATMUL_SIZE);
  const N = request.frames.length;
  const pixels = TEST_MAP_WIDTH * TEST_MAP_HEIGHT;
  const localPoints = new Float32Array(N * pixels * 3);
  let product: Float32Array | undefined;
  for (let i = 0; i < N; i++) {
    if (options.signal.aborted) throw cancelledError('The reconstruction');
    const frame = request.frames[i];
    if (frame.name === 'fail') {
      throw new StudioError(
        'model-corrupt',
        `Test failure on frame ${i}.`,
        'Nothing to fix: this is a test.',
      );
    }
    if (frame.name === 'long-run') {
      const long = await ort.InferenceSession.create(
        matmulModel(LONG_RUN_SIZE, LONG_RUN_SIZE, LONG_RUN_SIZE),
        {
          intraOpNumThreads: 1,
        },
      );
      const ones = new Float32Array(LONG_RUN_SIZE * LONG_RUN_SIZE).fill(1);
      const input = new ort.Tensor('float32', ones, [LONG_RUN_SIZE, LONG_RUN_SIZE]);
      options.onProgress({ progress: i / N, stage: 'long-run' });
      // Twice, so the run in flight outlasts the cancel's grace and the stuck check.
      await long.run({ a: input, b: input });
      await long.run({ a: input, b: input });
      await long.release();
    }
    if (frame.name === 'hang') {
      // Announce the hang, then block the thread: the cancel cannot be read any more.
      options.onProgress({ progress: i / N, stage: 'hang' });
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        // Busy: the worker cannot even receive the cancel message.
      }
    }
    const result = await session.run({
      a: new ort.Tensor('float32', a, [MATMUL_SIZE, MATMUL_SIZE]),
      b: new ort.Tensor('float32', b, [MATMUL_SIZE, MATMUL_SIZE]),
    });
    product = result.c.data as Float32Array;
    localPoints.set(product.subarray(0, pixels * 3), i * pixels * 3);
    options.onProgress({ progress: (i + 1) / N, stage: 'matmul' });
    // Give the cancel message a chance between runs, as the real pipeline does.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await session.release();
  const worldFromCamera = new Float32Array(N * 16);
  for (let i = 0; i < N; i++) for (let d = 0; d < 4; d++) worldFromCamera[i * 16 + d * 5] = 1;
  return {
    frameCount: N,
    width: TEST_MAP_WIDTH,
    height: TEST_MAP_HEIGHT,
    worldFromCamera,
    localPoints,
    worldPoints: localPoints.slice(),
    globalPoints: localPoints.slice(),
    colors: new Uint8Array(N * pixels * 3).fill(200),
    executionProvider: 'cpu',
    precision: 'fp32',
    timingsMs: { matmul: 1 },
  };
}

export async function runChat(
  request: ChatRequest,
  options: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken: (text: string) => void },
): Promise<ChatOutput> {
  const words = request.question.split(' ');
  const tokenIds: number[] = [];
  for (let i = 0; i < words.length; i++) {
    if (options.signal.aborted) throw cancelledError('The question');
    options.onToken(words[i].toUpperCase() + (i + 1 < words.length ? ' ' : ''));
    options.onProgress({ progress: (i + 1) / words.length, stage: 'decode' });
    tokenIds.push(i);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    answer: request.question.toUpperCase(),
    tokenIds,
    executionProvider: 'cpu',
    precision: 'fp32',
    timingsMs: { decode: 1 },
    prefixReused: false,
  };
}
