// The engine worker thread: runs the model pipelines (ONNX Runtime) off the
// main thread so the UI and the API stay responsive during a reconstruction.
// Bundled as out/main/engine-worker.js; EngineClient starts it.
//
// Cancellation: the client posts {type:'cancel'}; the request's AbortSignal fires
// and the pipeline stops between ONNX Runtime runs (a run in flight cannot be
// interrupted). The client never terminates this thread while a run is in flight
// (onnxruntime-node aborts the whole process when a run completes into a dead
// thread); it counts its runs in shared memory (native-run-counter.ts) and
// answers 'ping', so the client can tell "busy in ORT" from "stuck in JavaScript".

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { StudioError, cancelledError, toStudioErrorInfo } from '../../common/errors';
import {
  transferablesOf,
  type ChatRunner,
  type ClientToWorker,
  type EngineWorkerData,
  type ReconstructionRunner,
  type WorkerToClient,
} from './engine-protocol';
import { countNativeRuns } from './native-run-counter';

const port = parentPort;
if (!port) throw new Error('engine-worker.ts must run in a worker thread (EngineClient starts it).');

const data = (workerData ?? {}) as EngineWorkerData;
// The client reads this while our thread is blocked in a run (it must not terminate us then).
if (data.nativeRuns) countNativeRuns(data.nativeRuns);
const running = new Map<number, AbortController>();

function post(message: WorkerToClient, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function pipelineUnavailable(what: string, specifier: string, error: unknown): StudioError {
  const detail = error instanceof Error ? error.message : String(error);
  return new StudioError(
    'internal',
    `The ${what} pipeline of the model engine is not available (${specifier}: ${detail}).`,
    'This build of G2 Studio is incomplete; reinstall it or rebuild with `npm run build`.',
  );
}

// The pipelines are loaded on first use: a worker that only ever chats never
// loads the reconstruction code, and a missing module becomes a clear error.
// Modules are loaded with require: the bundle is CommonJS, and in development
// (TypeScript sources run through tsx's require hook) import() would bypass tsx.
const loadCommonJs = createRequire(__filename);

async function pipelineExport<T>(
  what: string,
  specifier: string,
  exportName: string,
  load: () => Promise<unknown>,
): Promise<T> {
  let module: Record<string, unknown>;
  try {
    module = (await load()) as Record<string, unknown>;
  } catch (error) {
    throw pipelineUnavailable(what, specifier, error);
  }
  const run = module[exportName];
  if (typeof run !== 'function') {
    throw pipelineUnavailable(what, specifier, new Error(`it does not export ${exportName}()`));
  }
  return run as T;
}

/** A pipeline module by path (overrides, and the TypeScript sources in development). */
function requirePipeline<T>(what: string, specifier: string, exportName: string): Promise<T> {
  return pipelineExport<T>(what, specifier, exportName, () =>
    Promise.resolve().then(() => loadCommonJs(specifier)),
  );
}

// Running from the TypeScript sources (tests, development) rather than the bundle.
const fromSources = __filename.endsWith('.ts');

let reconRunner: Promise<ReconstructionRunner> | undefined;
let chatRunner: Promise<ChatRunner> | undefined;

function loadReconstruction(): Promise<ReconstructionRunner> {
  const what = 'reconstruction';
  const override = data.pipelines?.recon;
  reconRunner ??= override
    ? requirePipeline<ReconstructionRunner>(what, override, 'runReconstruction')
    : fromSources
      ? requirePipeline<ReconstructionRunner>(
          what,
          join(__dirname, '../../model/runtime/recon-pipeline'),
          'runReconstruction',
        )
      : // A literal import, so the bundler puts the pipeline into the build.
        pipelineExport<ReconstructionRunner>(
          what,
          'model/runtime/recon-pipeline',
          'runReconstruction',
          () => import('../runtime/recon-pipeline'),
        );
  reconRunner.catch(() => (reconRunner = undefined));
  return reconRunner;
}

function loadChat(): Promise<ChatRunner> {
  const what = 'chat';
  const override = data.pipelines?.chat;
  chatRunner ??= override
    ? requirePipeline<ChatRunner>(what, override, 'runChat')
    : fromSources
      ? requirePipeline<ChatRunner>(what, join(__dirname, '../../model/chat/chat-pipeline'), 'runChat')
      : pipelineExport<ChatRunner>(
          what,
          'model/chat/chat-pipeline',
          'runChat',
          () => import('../chat/chat-pipeline'),
        );
  chatRunner.catch(() => (chatRunner = undefined));
  return chatRunner;
}

async function handle(message: Extract<ClientToWorker, { type: 'reconstruct' | 'chat' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  const { signal } = controller;
  const onProgress = (progress: { progress: number; stage: string }): void => {
    if (!signal.aborted) post({ type: 'progress', id: message.id, progress });
  };
  try {
    if (message.type === 'reconstruct') {
      const run = await loadReconstruction();
      const output = await run(message.request, { signal, onProgress });
      if (signal.aborted) throw cancelledError('The reconstruction');
      // Point maps are tens to hundreds of MB: move them, do not copy them.
      const transfer = transferablesOf([
        output.worldFromCamera,
        output.localPoints,
        output.worldPoints,
        output.globalPoints,
        output.colors,
      ]);
      post({ type: 'reconstruct-result', id: message.id, output }, transfer);
    } else {
      const run = await loadChat();
      const output = await run(message.request, {
        signal,
        onProgress,
        onToken: (text) => {
          if (!signal.aborted) post({ type: 'token', id: message.id, text });
        },
      });
      if (signal.aborted) throw cancelledError('The question');
      post({ type: 'chat-result', id: message.id, output });
    }
  } catch (error) {
    const info = signal.aborted
      ? cancelledError(message.type === 'reconstruct' ? 'The reconstruction' : 'The question').toInfo()
      : toStudioErrorInfo(error);
    post({ type: 'error', id: message.id, error: info });
  } finally {
    running.delete(message.id);
  }
}

port.on('message', (message: ClientToWorker) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort(cancelledError('The request'));
    return;
  }
  if (message.type === 'ping') {
    post({ type: 'pong', nonce: message.nonce });
    return;
  }
  void handle(message);
});

post({ type: 'ready' });
