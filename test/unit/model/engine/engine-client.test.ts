import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StudioError } from '../../../../main/common/errors';
import { EngineClient, defaultWorkerPath } from '../../../../main/model/engine/engine-client';
import type { EngineProgress, FrameInput } from '../../../../main/model/engine/engine-types';
import { SafetensorsFile } from '../../../../main/model/checkpoint/safetensors';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { MATMUL_SIZE, TEST_MAP_HEIGHT, TEST_MAP_WIDTH, testMatrices } from './engine-test-pipeline';
import { SHARED_DIR } from '../../../support/shared-dir';

// The real engine worker (engine-worker.ts run through tsx in a worker thread),
// running test pipelines that do real ONNX Runtime work.
const PIPELINES = {
  recon: resolve(__dirname, 'engine-test-pipeline.ts'),
  chat: resolve(__dirname, 'engine-test-pipeline.ts'),
};
const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const MODEL_DIR = join(GOLDEN, 'checkpoint');

let frameBytes: Uint8Array;
const clients: EngineClient[] = [];
function client(options: ConstructorParameters<typeof EngineClient>[0] = {}): EngineClient {
  const c = new EngineClient({ pipelines: PIPELINES, ...options });
  clients.push(c);
  return c;
}
const frames = (...names: string[]): FrameInput[] => names.map((name) => ({ name, bytes: frameBytes }));

beforeAll(async () => {
  frameBytes = new Uint8Array(await fs.readFile(join(GOLDEN, 'inputs/images/frame_00019.png')));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

describe('EngineClient with a real worker thread', () => {
  it('finds the worker source in development', () => {
    expect(defaultWorkerPath()).toMatch(/engine-worker\.(ts|js)$/);
  });

  it('reconstructs: progress in order, result arrays transferred intact', async () => {
    const engine = client();
    const progress: EngineProgress[] = [];
    const output = await engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('a', 'b', 'c') },
      { signal: new AbortController().signal, onProgress: (p) => progress.push(p) },
    );
    expect(progress[0]).toEqual({ progress: 0, stage: 'memory check' });
    const runs = progress.filter((p) => p.stage === 'matmul').map((p) => p.progress);
    expect(runs).toEqual([1 / 3, 2 / 3, 1]);
    expect(output.frameCount).toBe(3);
    const pixels = TEST_MAP_WIDTH * TEST_MAP_HEIGHT;
    expect(output.localPoints).toBeInstanceOf(Float32Array);
    expect(output.localPoints.length).toBe(3 * pixels * 3);
    expect(output.colors).toBeInstanceOf(Uint8Array);
    expect(output.worldFromCamera[5]).toBe(1);
    // Row 0 of the ORT MatMul, checked against a JS product.
    const { a, b } = testMatrices(MATMUL_SIZE);
    for (const col of [0, 1, 77, 255]) {
      let sum = 0;
      for (let k = 0; k < MATMUL_SIZE; k++) sum += a[k] * b[k * MATMUL_SIZE + col];
      expect(output.localPoints[2 * pixels * 3 + col]).toBe(sum);
    }
  });

  it('streams chat tokens in order', async () => {
    const engine = client();
    const tokens: string[] = [];
    const output = await engine.chat(
      { modelDir: MODEL_DIR, frames: frames('a'), question: 'how far is the door' },
      { signal: new AbortController().signal, onProgress: () => undefined, onToken: (t) => tokens.push(t) },
    );
    expect(tokens.join('')).toBe('HOW FAR IS THE DOOR');
    expect(output.answer).toBe('HOW FAR IS THE DOOR');
    expect(output.tokenIds).toEqual([0, 1, 2, 3, 4]);
  });

  it('cancels between ONNX Runtime runs, then serves the next request', async () => {
    const engine = client();
    const controller = new AbortController();
    let runsSeen = 0;
    const started = Date.now();
    const error = await rejection(
      engine.reconstruct(
        { modelDir: MODEL_DIR, frames: frames(...Array.from({ length: 40 }, (_, i) => `f${i}`)) },
        {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.stage === 'matmul' && ++runsSeen === 2) controller.abort();
          },
        },
      ),
    );
    expect(error.code).toBe('cancelled');
    // Stopped at the next run boundary, far from the 40 runs asked for.
    expect(runsSeen).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(15_000);
    const output = await engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('x', 'y') },
      { signal: new AbortController().signal, onProgress: () => undefined },
    );
    expect(output.frameCount).toBe(2);
  });

  it('releases the caller of a worker stuck in JavaScript, serves the next request from a fresh worker, terminates the stuck one', async () => {
    const engine = client({ cancelGraceMs: 300 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('ok', 'hang', 'ok') },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'hang') controller.abort();
        },
      },
    );
    const error = await rejection(pending);
    expect(error.code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5000); // far below the 20 s hang
    const output = await engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('again', 'again') },
      { signal: new AbortController().signal, onProgress: () => undefined },
    );
    expect(output.frameCount).toBe(2);
    // The stuck worker (silent to pings for ~10 s) is terminated; the fresh one stays.
    const deadline = Date.now() + 15_000;
    while (engine.workerCount > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(engine.workerCount).toBe(1);
  });

  it('never terminates a worker blocked inside an ONNX Runtime run (that would abort the process)', async () => {
    // onnxruntime-node runs synchronously: a worker inside a long run answers no
    // ping. With a 100 ms grace and 50 ms pings, the old check called it stuck
    // after 0.35 s and terminated it mid-run: "terminate called after throwing an
    // instance of 'Napi::Error'", and this test process died.
    const engine = client({ cancelGraceMs: 100, pingTimeoutMs: 50 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('long-run', 'ok') },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'long-run') controller.abort();
        },
      },
    );
    const error = await rejection(pending);
    expect(error.code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(60_000);
    // The busy worker finishes its run, sees the cancel, and goes; a new request runs meanwhile.
    const output = await engine.reconstruct(
      { modelDir: MODEL_DIR, frames: frames('after', 'after') },
      { signal: new AbortController().signal, onProgress: () => undefined },
    );
    expect(output.frameCount).toBe(2);
    const deadline = Date.now() + 60_000;
    while (engine.workerCount > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(engine.workerCount).toBe(1);
  });

  it('gives an idle worker (and the model it holds) back after the idle timeout, and starts again on demand', async () => {
    const engine = client({ idleTimeoutMs: 300 });
    const request = { modelDir: MODEL_DIR, frames: frames('a', 'b') };
    const options = { signal: new AbortController().signal, onProgress: () => undefined };
    await engine.reconstruct(request, options);
    expect(engine.workerCount).toBe(1);
    const deadline = Date.now() + 10_000;
    while (engine.workerCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(engine.workerCount).toBe(0);
    expect((await engine.reconstruct(request, options)).frameCount).toBe(2);
    expect(engine.workerCount).toBe(1);
  });

  it('carries a pipeline StudioError across the thread boundary', async () => {
    const error = await rejection(
      client().reconstruct(
        { modelDir: MODEL_DIR, frames: frames('ok', 'fail') },
        { signal: new AbortController().signal, onProgress: () => undefined },
      ),
    );
    expect(error.code).toBe('model-corrupt');
    expect(error.message).toBe('Test failure on frame 1.');
    expect(error.fix).toBe('Nothing to fix: this is a test.');
  });

  it('says clearly when a pipeline module is not there', async () => {
    const engine = client({ pipelines: { recon: resolve(__dirname, 'no-such-pipeline.ts') } });
    const error = await rejection(
      engine.reconstruct(
        { modelDir: MODEL_DIR, frames: frames('a', 'b') },
        { signal: new AbortController().signal, onProgress: () => undefined },
      ),
    );
    expect(error.code).toBe('internal');
    expect(error.message).toContain('reconstruction pipeline');
    expect(error.message).toContain('no-such-pipeline');
  });

  it('refuses a question before starting when its frames do not fit, with the chat estimate', async () => {
    const probe = client();
    const eight = await probe.estimateChat(MODEL_DIR, 8, 960, 540);
    const two = await probe.estimateChat(MODEL_DIR, 2, 960, 540);
    expect(eight.peakBytes).toBeGreaterThan(two.peakBytes);
    // A budget between the two: 8 frames are refused, and the count it names fits.
    const budget = Math.round((eight.peakBytes + two.peakBytes) / 2);
    const engine = client({ memoryBudgetBytes: budget });
    const progress: EngineProgress[] = [];
    const error = await rejection(
      engine.chat(
        {
          modelDir: MODEL_DIR,
          frames: frames(...Array.from({ length: 8 }, (_, i) => `f${i}`)),
          question: 'How far is the chair from the table?',
        },
        { signal: new AbortController().signal, onProgress: (p) => progress.push(p), onToken: () => {} },
      ),
    );
    expect(error.code).toBe('insufficient-memory');
    expect(error.message).toMatch(/^A question over 8 frames needs about [\d.]+ GiB/);
    const largest = Number(/the largest number of frames that fits is (\d+)/.exec(error.message)?.[1]);
    expect(largest).toBeGreaterThanOrEqual(2);
    expect(largest).toBeLessThan(8);
    expect(progress.map((p) => p.stage)).toEqual(['memory check']);
    expect((await engine.estimateChat(MODEL_DIR, largest, 960, 540)).fits).toBe(true);
  });

  it('refuses before starting when the frames do not fit in memory, naming the largest count that does', async () => {
    const engine = client({ memoryBudgetBytes: 1200 * 2 ** 20 });
    const progress: EngineProgress[] = [];
    const error = await rejection(
      engine.reconstruct(
        { modelDir: MODEL_DIR, frames: frames(...Array.from({ length: 64 }, (_, i) => `f${i}`)) },
        { signal: new AbortController().signal, onProgress: (p) => progress.push(p) },
      ),
    );
    expect(error.code).toBe('insufficient-memory');
    const largest = Number(/the largest number of frames that fits is (\d+)/.exec(error.message)?.[1]);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(64);
    expect(error.message).toMatch(/needs about [\d.]+ GiB, 1\.2 GiB available/);
    expect(progress.map((p) => p.stage)).toEqual(['memory check']);
    // And that many frames is accepted.
    const estimate = await engine.estimateReconstruction(MODEL_DIR, largest, 960, 540);
    expect(estimate.fits).toBe(true);
    expect(estimate.maxFrames).toBe(largest);
  });
});

describe('EngineClient with the real G2VLM pipelines', () => {
  let work: string;
  let modelDir: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(join(tmpdir(), 'g2-engine-e2e-'));
    modelDir = join(work, 'model');
    await convertCheckpoint(MODEL_DIR, modelDir, { dtype: 'fp32' });
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it('reconstructs the golden tiny-a frames in the worker and matches the official camera poses', async () => {
    const names = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
    const goldenFrames: FrameInput[] = [];
    for (const name of names) {
      goldenFrames.push({
        name,
        bytes: new Uint8Array(await fs.readFile(join(GOLDEN, 'inputs/images', name))),
      });
    }
    const engine = client({ pipelines: undefined });
    const stages: string[] = [];
    const output = await engine.reconstruct(
      { modelDir, frames: goldenFrames, executionProvider: 'cpu' },
      { signal: new AbortController().signal, onProgress: (p) => stages.push(p.stage) },
    );
    expect(output.frameCount).toBe(3);
    expect([output.width, output.height]).toEqual([518, 294]);
    expect(output.worldPoints.length).toBe(3 * 294 * 518 * 3);
    expect(new Set(stages).size).toBeGreaterThan(3);
    const outputs = await SafetensorsFile.open(join(GOLDEN, 'outputs/outputs.safetensors'));
    const poses = await outputs.readFloat32('recon.camera_poses');
    await outputs.close();
    let maxDiff = 0;
    for (let i = 0; i < poses.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(poses[i] - output.worldFromCamera[i]));
    expect(maxDiff).toBeLessThan(2e-4 + 2e-4 * 1.61); // manifest tolerance for recon.camera_poses
  });

  it('cancel during a long ONNX Runtime run: the caller is released at once, the worker stops after its run, the next request works', async () => {
    const goldenFrames: FrameInput[] = [];
    for (const name of ['frame_00019.png', 'frame_00040.png']) {
      goldenFrames.push({
        name,
        bytes: new Uint8Array(await fs.readFile(join(GOLDEN, 'inputs/images', name))),
      });
    }
    const engine = client({ pipelines: undefined, cancelGraceMs: 200 });
    const controller = new AbortController();
    const started = Date.now();
    let abortedAt = 0;
    const error = await rejection(
      engine.reconstruct(
        { modelDir, frames: goldenFrames, executionProvider: 'cpu' },
        {
          signal: controller.signal,
          onProgress: (p) => {
            // The tiny model's decoders are one ~2 s ORT run: cancel as it starts.
            if (p.stage === 'decoders' && !abortedAt) {
              abortedAt = Date.now();
              controller.abort();
            }
          },
        },
      ),
    );
    expect(error.code).toBe('cancelled');
    expect(abortedAt).toBeGreaterThan(0);
    // Released while the old worker is still inside its run (it has not exited yet).
    expect(engine.workerCount).toBe(1);
    expect(Date.now() - abortedAt).toBeLessThan(5000);
    const output = await engine.reconstruct(
      { modelDir, frames: goldenFrames, executionProvider: 'cpu' },
      { signal: new AbortController().signal, onProgress: () => undefined },
    );
    expect(output.frameCount).toBe(2);
    expect(Date.now() - started).toBeLessThan(60_000);
    // The retired worker stopped once its run ended; only the fresh one is left.
    expect(engine.workerCount).toBe(1);
  });

  it('close() during a long ONNX Runtime run cancels the request and stops the worker without taking the process down', async () => {
    const goldenFrames: FrameInput[] = [];
    for (const name of ['frame_00019.png', 'frame_00040.png']) {
      goldenFrames.push({
        name,
        bytes: new Uint8Array(await fs.readFile(join(GOLDEN, 'inputs/images', name))),
      });
    }
    const engine = new EngineClient();
    let closing: Promise<void> | undefined;
    const error = await rejection(
      engine.reconstruct(
        { modelDir, frames: goldenFrames, executionProvider: 'cpu' },
        {
          signal: new AbortController().signal,
          onProgress: (p) => {
            if (p.stage === 'decoders' && !closing) closing = engine.close();
          },
        },
      ),
    );
    expect(error.code).toBe('cancelled');
    await closing;
    expect(engine.workerCount).toBe(0);
  });

  it('loads the real chat pipeline in the worker; its typed error (no tokenizer in this folder) reaches the caller', async () => {
    const engine = client({ pipelines: undefined });
    const error = await rejection(
      engine.chat(
        { modelDir, frames: frames('25_0.jpg'), question: 'How far is the table?' },
        { signal: new AbortController().signal, onProgress: () => undefined, onToken: () => undefined },
      ),
    );
    expect(error.code).toBe('model-missing');
    expect(error.message).toContain('No tokenizer');
    expect(error.fix.length).toBeGreaterThan(10);
  });
});
