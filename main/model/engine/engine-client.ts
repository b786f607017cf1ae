// The studio core's handle on the model engine: starts the engine worker thread
// on first use, sends it requests, relays progress/tokens, and turns its answers
// back into typed results or StudioErrors.
//
// Cancel: the client posts a cancel; the worker stops between ONNX Runtime runs.
// A request that has not stopped `cancelGraceMs` later is reported as cancelled
// at once and its worker is retired (the next request starts a fresh one). A
// retired worker is terminated only when that is safe: as soon as it is idle,
// or at once if its thread is stuck in JavaScript (it does not answer a ping).
// Terminating a worker while ONNX Runtime is running for it aborts the whole
// process (onnxruntime-node throws from its completion callback), so a worker
// that is merely busy inside a long run is left to finish and then stopped.

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
  estimateChatMemory,
  estimateReconstructionMemory,
  insufficientMemoryError,
} from './memory-estimate';
import {
  estimateGpuChatMemory,
  estimateGpuReconstructionMemory,
  gpuLimits,
  insufficientGpuMemoryError,
  type GpuMemoryEstimate,
} from './gpu-memory-estimate';
import { autoProvider, gpuProviderProbe } from '../runtime/provider-probe';
import { ProgressHeartbeat } from './progress-heartbeat';
import { nativeRunsInFlight, newNativeRunCounter } from './native-run-counter';

export interface EngineClientOptions {
  /** The worker script: a bundled engine-worker.js, or engine-worker.ts (run through tsx). */
  workerPath?: string;
  /** Pipeline modules the worker runs instead of the built-in ones (benchmarks, tests). */
  pipelines?: EnginePipelineModules;
  /** How long a cancelled request may take to stop before the worker is terminated (ms). */
  cancelGraceMs?: number;
  /** Memory the engine may plan with (bytes); the lower of this and what the system reports is used. */
  memoryBudgetBytes?: number;
  /**
   * Stop an idle worker after this long (ms; default 120 000). The worker keeps the
   * loaded model between requests — gigabytes for the real checkpoint — so an idle
   * studio gives that memory back; the next request loads the model again.
   */
  idleTimeoutMs?: number;
  /** Milliseconds between progress beats inside a timed stage (default 1000; tests use less). */
  heartbeatMs?: number;
  /** How long one ping may wait for its answer (default PING_TIMEOUT_MS; tests use less). */
  pingTimeoutMs?: number;
}

interface Pending {
  kind: 'reconstruct' | 'chat';
  slot: WorkerSlot;
  modelDir: string;
  resolve: (value: ReconstructionOutput | ChatOutput) => void;
  reject: (error: StudioError) => void;
  onProgress: (p: EngineProgress) => void;
  onToken?: (text: string) => void;
}

/** One worker thread and the requests it is still working on. */
interface WorkerSlot {
  worker: Worker;
  /** Requests in the worker that a caller still waits for. */
  active: Set<number>;
  /** Requests the caller gave up on (cancelled past the grace period) that the worker has not finished. */
  abandoned: Set<number>;
  /** No new requests; terminate once idle. */
  retired: boolean;
  exited: boolean;
  pongs: Map<number, () => void>;
  /** ONNX Runtime runs in flight in the worker (shared memory: readable while its thread is blocked). */
  nativeRuns: SharedArrayBuffer;
  idleTimer?: NodeJS.Timeout;
  /** Model folders whose reconstruction sessions the worker holds (kept between requests). */
  loadedModels: Set<string>;
  /** Model folders whose chat sessions the worker holds (another set of sessions: no decoders, a vision tower). */
  loadedChatModels: Set<string>;
}

/** A worker whose thread answers none of STUCK_PINGS pings, each given PING_TIMEOUT_MS, counts as stuck. */
const PING_TIMEOUT_MS = 2000;
const STUCK_PINGS = 5;

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
  private current: WorkerSlot | undefined;
  private readonly slots = new Set<WorkerSlot>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextNonce = 1;
  private closed = false;

  constructor(options: EngineClientOptions = {}) {
    this.options = options;
  }

  /** Whether a worker thread is running (it keeps the loaded model between requests). */
  get workerCount(): number {
    return [...this.slots].filter((slot) => !slot.exited).length;
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
    await this.checkMemory('reconstruction', request, opts.onProgress);
    return (await this.send({ type: 'reconstruct', request }, 'reconstruct', opts)) as ReconstructionOutput;
  }

  async chat(
    request: ChatRequest,
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken: (text: string) => void },
  ): Promise<ChatOutput> {
    if (opts.signal.aborted) throw cancelledError('The question');
    if (request.frames.length > 0) await this.checkMemory('chat', request, opts.onProgress);
    return (await this.send({ type: 'chat', request }, 'chat', opts)) as ChatOutput;
  }

  /**
   * Refuses a job up front with 'insufficient-memory' when its frames do not fit:
   * on the GPU it would run on (device memory and the largest buffer), then in RAM.
   */
  private async checkMemory(
    job: 'reconstruction' | 'chat',
    request: ReconstructRequest | ChatRequest,
    onProgress: (p: EngineProgress) => void,
  ): Promise<void> {
    onProgress({ progress: 0, stage: 'memory check' });
    const { modelDir, frames, executionProvider } = request;
    const size = await frameSize(frames[0].bytes, frames[0].name);
    const gpu = await this.estimateGpu(
      job,
      modelDir,
      frames.length,
      size.width,
      size.height,
      executionProvider,
    );
    if (gpu && !gpu.fits) throw insufficientGpuMemoryError(gpu);
    const estimate =
      job === 'chat'
        ? await this.estimateChat(modelDir, frames.length, size.width, size.height)
        : await this.estimateReconstruction(modelDir, frames.length, size.width, size.height);
    if (!estimate.fits) throw insufficientMemoryError(frames.length, estimate, job);
  }

  /** Peak memory of a question over `frameCount` frames whose source images are `width`×`height`. */
  async estimateChat(
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
  ): Promise<MemoryEstimate> {
    return this.estimateWith(estimateChatMemory, 'chat', modelDir, frameCount, width, height);
  }

  /** Peak memory of reconstructing `frameCount` frames whose source images are `width`×`height`. */
  async estimateReconstruction(
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
  ): Promise<MemoryEstimate> {
    return this.estimateWith(
      estimateReconstructionMemory,
      'reconstruction',
      modelDir,
      frameCount,
      width,
      height,
    );
  }

  /**
   * An estimate against the memory this engine may plan with (the lower of its
   * budget and what the system has), crediting the sessions of that kind the
   * worker already holds.
   */
  private async estimateWith(
    estimate: (
      modelDir: string,
      frameCount: number,
      width: number,
      height: number,
      options: { availableBytes: number; modelLoaded: boolean },
    ) => Promise<MemoryEstimate>,
    kind: 'chat' | 'reconstruction',
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
  ): Promise<MemoryEstimate> {
    const budget = this.options.memoryBudgetBytes;
    const system = await availableMemoryBytes();
    const loaded = kind === 'chat' ? this.current?.loadedChatModels : this.current?.loadedModels;
    const result = await estimate(modelDir, frameCount, width, height, {
      availableBytes: budget === undefined ? system : Math.min(budget, system),
      modelLoaded: loaded?.has(resolve(modelDir)) ?? false,
    });
    return {
      peakBytes: result.peakBytes,
      availableBytes: result.availableBytes,
      fits: result.fits,
      maxFrames: result.maxFrames,
    };
  }

  /**
   * The GPU side of a reconstruction or a question on `provider` (device memory
   * and the largest tensor against the adapter's limits); undefined when the
   * run would be on the CPU (`auto` resolves the way the worker's sessions will).
   */
  async estimateGpu(
    job: 'reconstruction' | 'chat',
    modelDir: string,
    frameCount: number,
    width: number,
    height: number,
    provider: ReconstructRequest['executionProvider'],
  ): Promise<GpuMemoryEstimate | undefined> {
    const target = provider === 'auto' ? (await autoProvider()).provider : (provider ?? 'cpu');
    if (target === 'cpu') return undefined;
    const probe = await gpuProviderProbe(target);
    // A provider that does not start fails (or falls back) when the sessions load, with its own message.
    if (!probe.starts) return undefined;
    const limits = await gpuLimits(target, probe);
    const loaded = job === 'chat' ? this.current?.loadedChatModels : this.current?.loadedModels;
    const estimate = job === 'chat' ? estimateGpuChatMemory : estimateGpuReconstructionMemory;
    return estimate(modelDir, frameCount, width, height, limits, {
      // The free memory read from the driver already excludes the weights a loaded model holds.
      modelLoaded: loaded?.has(resolve(modelDir)) ?? false,
    });
  }

  /**
   * Cancels what is running and stops the worker threads. Waits for a run inside
   * ONNX Runtime to reach its next stop point (terminating it mid-run would abort
   * the process), at most `maxWaitMs`.
   */
  async close(maxWaitMs = 60_000): Promise<void> {
    this.closed = true;
    this.current = undefined;
    for (const [id, pending] of [...this.pending]) {
      this.abandon(id, pending, cancelledError('The model engine request'));
    }
    const deadline = Date.now() + maxWaitMs;
    await Promise.all(
      [...this.slots].map(async (slot) => {
        slot.retired = true;
        while (!slot.exited && slot.abandoned.size > 0 && Date.now() < deadline) {
          if (await this.isStuck(slot)) break; // stuck in JavaScript: safe to terminate
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await this.terminate(slot);
      }),
    );
  }

  private startSlot(): WorkerSlot {
    if (this.closed) {
      throw new StudioError('internal', 'The model engine was closed.', 'Restart G2 Studio.');
    }
    const path = resolve(this.options.workerPath ?? defaultWorkerPath());
    if (!existsSync(path)) {
      throw new StudioError(
        'internal',
        `The model engine worker is missing (${path}).`,
        'Rebuild G2 Studio (`npm run build`) or reinstall it.',
      );
    }
    const nativeRuns = newNativeRunCounter();
    const slot: WorkerSlot = {
      worker: startWorker(path, { pipelines: this.options.pipelines, nativeRuns }),
      nativeRuns,
      active: new Set(),
      abandoned: new Set(),
      retired: false,
      exited: false,
      pongs: new Map(),
      loadedModels: new Set(),
      loadedChatModels: new Set(),
    };
    slot.worker.on('message', (message: WorkerToClient) => this.onMessage(slot, message));
    const failed = (error: StudioError): void => {
      slot.exited = true;
      this.slots.delete(slot);
      if (this.current === slot) this.current = undefined;
      for (const id of slot.active) {
        const pending = this.pending.get(id);
        this.pending.delete(id);
        pending?.reject(error);
      }
      slot.active.clear();
      slot.abandoned.clear();
    };
    slot.worker.on('error', (error) =>
      failed(
        new StudioError(
          'internal',
          `The model engine failed: ${error.message}`,
          'Try again; if it keeps happening, report it with the log.',
        ),
      ),
    );
    slot.worker.on('exit', (code) =>
      failed(
        new StudioError(
          'internal',
          `The model engine stopped unexpectedly (exit code ${code}); it may have run out of memory.`,
          'Try again with fewer frames, or close other programs.',
        ),
      ),
    );
    // An idle worker must not keep a CLI process alive.
    slot.worker.unref();
    this.slots.add(slot);
    return slot;
  }

  private send(
    message:
      | Omit<Extract<ClientToWorker, { type: 'reconstruct' }>, 'id'>
      | Omit<Extract<ClientToWorker, { type: 'chat' }>, 'id'>,
    kind: Pending['kind'],
    opts: { signal: AbortSignal; onProgress: (p: EngineProgress) => void; onToken?: (text: string) => void },
  ): Promise<ReconstructionOutput | ChatOutput> {
    const slot = (this.current ??= this.startSlot());
    clearTimeout(slot.idleTimer);
    const id = this.nextId++;
    const what = kind === 'reconstruct' ? 'The reconstruction' : 'The question';
    return new Promise<ReconstructionOutput | ChatOutput>((resolvePromise, rejectPromise) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        slot.worker.postMessage({ type: 'cancel', id } satisfies ClientToWorker);
        graceTimer = setTimeout(() => {
          const pending = this.pending.get(id);
          if (pending) this.abandon(id, pending, cancelledError(what));
        }, this.options.cancelGraceMs ?? 5000);
      };
      // The worker is silent inside an ONNX run: this thread moves the bar meanwhile.
      const heartbeat = new ProgressHeartbeat(opts.onProgress, this.options.heartbeatMs);
      const settle = (): void => {
        heartbeat.stop();
        opts.signal.removeEventListener('abort', onAbort);
        if (graceTimer) clearTimeout(graceTimer);
      };
      this.pending.set(id, {
        kind,
        slot,
        modelDir: message.request.modelDir,
        onProgress: (p) => heartbeat.receive(p),
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
      slot.active.add(id);
      opts.signal.addEventListener('abort', onAbort, { once: true });
      // Keep the process alive while a request is running.
      slot.worker.ref();
      slot.worker.postMessage({ ...message, id } as ClientToWorker);
    });
  }

  /**
   * Gives up on a request that did not stop in time: the caller gets `error` now;
   * the worker is retired and stopped as soon as that is safe.
   */
  private abandon(id: number, pending: Pending, error: StudioError): void {
    const { slot } = pending;
    this.pending.delete(id);
    slot.active.delete(id);
    slot.abandoned.add(id);
    slot.worker.postMessage({ type: 'cancel', id } satisfies ClientToWorker);
    slot.retired = true;
    if (this.current === slot) this.current = undefined;
    pending.reject(error);
    void this.isStuck(slot).then((stuck) => {
      // Not answering: the thread is stuck in JavaScript, not inside ONNX Runtime.
      if (stuck && !slot.exited) {
        for (const other of [...slot.active]) {
          const waiting = this.pending.get(other);
          this.pending.delete(other);
          waiting?.reject(
            new StudioError(
              'internal',
              'The model engine was restarted because a cancelled request did not stop.',
              'Run the request again.',
            ),
          );
        }
        slot.active.clear();
        slot.abandoned.clear();
        void this.terminate(slot);
      }
    });
  }

  /**
   * True when the worker's thread has not answered for STUCK_PINGS × PING_TIMEOUT_MS
   * and is not inside ONNX Runtime: it is blocked in JavaScript. A run in ONNX
   * Runtime blocks the thread too (onnxruntime-node runs synchronously), and
   * terminating it then aborts the process, so the shared run counter decides
   * (native-run-counter.ts); "stuck" also needs a long silence, not one slow answer.
   */
  private async isStuck(slot: WorkerSlot): Promise<boolean> {
    for (let attempt = 0; attempt < STUCK_PINGS; attempt++) {
      if (slot.exited) return false;
      // Inside ONNX Runtime (which blocks the thread, so no pong comes): busy, not stuck.
      if (nativeRunsInFlight(slot.nativeRuns) > 0) return false;
      if (await this.answersPing(slot)) return false;
    }
    return !slot.exited && nativeRunsInFlight(slot.nativeRuns) === 0;
  }

  private answersPing(slot: WorkerSlot): Promise<boolean> {
    if (slot.exited) return Promise.resolve(false);
    const nonce = this.nextNonce++;
    return new Promise<boolean>((resolvePing) => {
      const timer = setTimeout(() => {
        slot.pongs.delete(nonce);
        resolvePing(false);
      }, this.options.pingTimeoutMs ?? PING_TIMEOUT_MS);
      slot.pongs.set(nonce, () => {
        clearTimeout(timer);
        resolvePing(true);
      });
      slot.worker.postMessage({ type: 'ping', nonce } satisfies ClientToWorker);
    });
  }

  private async terminate(slot: WorkerSlot): Promise<void> {
    if (slot.exited) return;
    slot.exited = true;
    clearTimeout(slot.idleTimer);
    this.slots.delete(slot);
    if (this.current === slot) this.current = undefined;
    await slot.worker.terminate();
  }

  /** After a request of `slot` ends: unref an idle worker; stop a retired one once idle. */
  private afterRequest(slot: WorkerSlot): void {
    if (slot.active.size > 0 || slot.abandoned.size > 0) return;
    if (slot.retired) return void this.terminate(slot);
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.active.size > 0 || slot.abandoned.size > 0 || slot.exited) return;
      // Idle: no ONNX Runtime run in flight, so terminating is safe.
      void this.terminate(slot);
    }, this.options.idleTimeoutMs ?? 120_000);
    slot.idleTimer.unref();
  }

  private onMessage(slot: WorkerSlot, message: WorkerToClient): void {
    if (message.type === 'ready') return;
    if (message.type === 'pong') {
      slot.pongs.get(message.nonce)?.();
      slot.pongs.delete(message.nonce);
      return;
    }
    const final = message.type !== 'progress' && message.type !== 'token';
    if (final && slot.abandoned.delete(message.id)) {
      this.afterRequest(slot);
      return;
    }
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
        (message.type === 'reconstruct-result' ? slot.loadedModels : slot.loadedChatModels).add(
          resolve(pending.modelDir),
        );
        this.pending.delete(message.id);
        slot.active.delete(message.id);
        pending.resolve(message.output);
        break;
      case 'error':
        this.pending.delete(message.id);
        slot.active.delete(message.id);
        pending.reject(StudioError.fromInfo(message.error));
        break;
    }
    this.afterRequest(slot);
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
