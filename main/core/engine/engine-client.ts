// The studio core's handle on the model engine: starts the engine worker thread
// on first use, sends it requests, relays progress/tokens, and turns its answers
// back into typed results or StudioErrors.
//
// Cancel: the client posts a cancel; the worker stops between ONNX Runtime runs.
// A worker that has not answered `cancelGraceMs` later (a single long run, or a
// hang) is terminated, and the next request starts a fresh one.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { StudioError, cancelledError } from '../../common/errors';
import type {
  EngineWorkerData,
  EnginePipelineModules,
  WorkerToClient,
  ClientToWorker,
} from './engine-protocol';
import type {
  ChatOutput,
  ChatRequest,
  EngineProgress,
  MemoryEstimate,
  ReconstructionOutput,
  ReconstructRequest,
} from './engine-types';
import {
  availableMemoryBytes,
  estimateReconstructionMemory,
  insufficientMemoryError,
} from './memory-estimate';

export interface EngineClientOptions {
  /** The worker script: a bundled engine-worker.js, or engine-worker.ts (run through tsx). */
  workerPath?: string;
  /** Pipeline modules the worker runs instead of the built-in ones (benchmarks, tests). */
  pipelines?: EnginePipelineModules;
  /** How long a cancelled request may take to stop before the worker is terminated (ms). */
  cancelGraceMs?: number;
  /** Memory the engine may plan with (bytes); the lower of this and what the system reports is used. */
  memoryBudgetBytes?: number;
}

interface Pending {
  kind: 'reconstruct' | 'chat';
  resolve: (value: ReconstructionOutput | ChatOutput) => void;
  reject: (error: StudioError) => void;
  onProgress: (p: EngineProgress) => void;
  onToken?: (text: string) => void;
  /** The worker running it (a terminated worker fails only its own requests). */
  worker: Worker;
}

/** The default worker: engine-worker.js beside the running bundle, or the TS source in development. */
export function defaultWorkerPath(): string {
  const bundled = join(__dirname, 'engine-worker.js');
  if (existsSync(bundled)) return bundled;
  const source = join(__dirname, 'engine-worker.ts');
  if (existsSync(source)) return source;
  return bundled;
}

function startWorker(path: string, workerData: EngineWorkerData): Worker {
  if (!path.endsWith('.ts')) return new Worker(path, { workerData });
  // Development/tests: run the TypeScript sources through tsx's require hook.
  // (Node 20 does not apply `--import tsx` inside worker threads.)
  const tsxRequireHook = createRequire(__filename).resolve('tsx/cjs');
  const bootstrap = `require(${JSON.stringify(tsxRequireHook)}); require(${JSON.stringify(path)});`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class EngineClient {
  private readonly options: EngineClientOptions;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(options: EngineClientOptions = {}) {
    this.options = options;
  }

  /** Reconstructs a scene; refuses up front with 'insufficient-memory' when it cannot fit. */
  async reconstruct(
    request: ReconstructRequest,
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void },
  ): Promise<ReconstructionOutput> {
    if (opts.signal.aborted) throw cancelledError('The reconstruction');
    if (request.frames.length === 0) {
      throw new StudioError(
        'too-few-frames',
        'There are no frames to reconstruct.',
        'Select at least two frames.',
      );
    }
    opts.onProgress({ progress: 0, stage: 'memory check' });
    const size = await frameSize(request.frames[0].bytes, request.frames[0].name);
    const estimate = await this.estimateReconstruction(
      request.modelDir,
      request.frames.length,
      size.width,
      size.height,
    );
    if (!estimate.fits) throw insufficientMemoryError(request.frames.length, estimate);
    return (await this.send({ type: 'reconstruct', request }, 'reconstruct', opts)) as ReconstructionOutput;
  }

  async chat(
    request: ChatRequest,
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken: (text: string) => void },
  ): Promise<ChatOutput> {
    if (opts.signal.aborted) throw cancelledError('The question');
    return (await this.send({ type: 'chat', request }, 'chat', opts)) as ChatOutput;
  }

  /** Peak memory of reconstructing `frameCount` frames whose source images are `width`×`height`. */
  async estimateReconstruction(
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
  ): Promise<MemoryEstimate> {
    const budget = this.options.memoryBudgetBytes;
    const system = await availableMemoryBytes();
    const estimate = await estimateReconstructionMemory(modelDir, frameCount, width, height, {
      availableBytes: budget === undefined ? system : Math.min(budget, system),
    });
    return {
      peakBytes: estimate.peakBytes,
      availableBytes: estimate.availableBytes,
      fits: estimate.fits,
      maxFrames: estimate.maxFrames,
    };
  }

  /** Stops the worker; pending requests fail as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(cancelledError('The model engine request'));
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.closed) {
      throw new StudioError('internal', 'The model engine was closed.', 'Restart G2 Studio.');
    }
    if (this.worker) return this.worker;
    const path = resolve(this.options.workerPath ?? defaultWorkerPath());
    if (!existsSync(path)) {
      throw new StudioError(
        'internal',
        `The model engine worker is missing (${path}).`,
        'Rebuild G2 Studio (`npm run build`) or reinstall it.',
      );
    }
    const worker = startWorker(path, { pipelines: this.options.pipelines });
    worker.on('message', (message: WorkerToClient) => this.onMessage(message));
    worker.on('error', (error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(
        new StudioError(
          'internal',
          `The model engine failed: ${error.message}`,
          'Try again; if it keeps happening, report it with the log.',
        ),
      );
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(
        new StudioError(
          'internal',
          `The model engine stopped unexpectedly (exit code ${code}); it may have run out of memory.`,
          'Try again with fewer frames, or close other programs.',
        ),
      );
    });
    // An idle worker must not keep a CLI process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private send(
    message:
      | Omit<Extract<ClientToWorker, { type: 'reconstruct' }>, 'id'>
      | Omit<Extract<ClientToWorker, { type: 'chat' }>, 'id'>,
    kind: Pending['kind'],
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken?: (text: string) => void },
  ): Promise<ReconstructionOutput | ChatOutput> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ReconstructionOutput | ChatOutput>((resolvePromise, rejectPromise) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        worker.postMessage({ type: 'cancel', id } satisfies ClientToWorker);
        graceTimer = setTimeout(() => {
          // The worker did not stop in time: drop it; the next request starts a fresh one.
          if (!this.pending.has(id)) return;
          if (this.worker === worker) this.worker = undefined;
          this.pending
            .get(id)
            ?.reject(cancelledError(kind === 'reconstruct' ? 'The reconstruction' : 'The question'));
          this.pending.delete(id);
          void worker.terminate();
          this.failAll(
            new StudioError(
              'internal',
              'The model engine was restarted because a cancelled request did not stop.',
              'Run the request again.',
            ),
            worker,
          );
        }, this.options.cancelGraceMs ?? 5000);
      };
      const settle = (): void => {
        opts.signal.removeEventListener('abort', onAbort);
        if (graceTimer) clearTimeout(graceTimer);
        if (this.pending.size === 0) worker.unref();
      };
      this.pending.set(id, {
        kind,
        worker,
        onProgress: opts.onProgress,
        onToken: opts.onToken,
        resolve: (value) => {
          settle();
          resolvePromise(value);
        },
        reject: (error) => {
          settle();
          rejectPromise(error);
        },
      });
      opts.signal.addEventListener('abort', onAbort, { once: true });
      // Keep the process alive while a request is running.
      worker.ref();
      worker.postMessage({ ...message, id } as ClientToWorker);
    });
  }

  private onMessage(message: WorkerToClient): void {
    if (message.type === 'ready') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    switch (message.type) {
      case 'progress':
        pending.onProgress(message.progress);
        return;
      case 'token':
        pending.onToken?.(message.text);
        return;
      case 'reconstruct-result':
      case 'chat-result':
        this.pending.delete(message.id);
        pending.resolve(message.output);
        return;
      case 'error':
        this.pending.delete(message.id);
        pending.reject(StudioError.fromInfo(message.error));
        return;
    }
  }

  /** Rejects every pending request (of `onlyWorker`, when given). */
  private failAll(error: StudioError, onlyWorker?: Worker): void {
    for (const [id, pending] of [...this.pending]) {
      if (onlyWorker && pending.worker !== onlyWorker) continue;
      this.pending.delete(id);
      pending.reject(error);
    }
  }
}

/** Width and height of an encoded frame, from its header (sharp reads no pixels for this). */
async function frameSize(bytes: Uint8Array, name: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error('no size');
    // EXIF orientations 5-8 swap width and height; frames are stored in display orientation.
    return (meta.orientation ?? 1) >= 5
      ? { width: meta.height, height: meta.width }
      : { width: meta.width, height: meta.height };
  } catch {
    throw new StudioError(
      'corrupt-media',
      `The frame ${name} is not a readable image.`,
      'Re-import the video or photos.',
    );
  }
}
