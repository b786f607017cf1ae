// How many ONNX Runtime runs the engine worker has in flight, in shared memory
// the client can read while the worker's thread is blocked inside one:
// onnxruntime-node 1.30 runs a session synchronously, so a worker inside a
// 55 s geometry prefill answers no message (no pong) — and terminating it then
// aborts the whole process ("terminate called after throwing an instance of
// 'Napi::Error'", measured with a 15 s run). The client therefore asks this
// counter, not a ping, whether the thread is busy in ONNX Runtime.
import { ort } from '../runtime/ort';

/** A fresh counter to hand to a worker (EngineWorkerData.nativeRuns). */
export function newNativeRunCounter(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

/** Runs in flight now (readable from any thread). */
export function nativeRunsInFlight(counter: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(counter), 0);
}

type RunMethod = (this: ort.InferenceSession, ...args: unknown[]) => Promise<unknown>;

/**
 * In the worker: counts every InferenceSession.run of this thread (the
 * pipelines' and any module's they load) from its call until it settles.
 */
export function countNativeRuns(counter: SharedArrayBuffer): void {
  const cells = new Int32Array(counter);
  // The factory onnxruntime-common exports is the session class itself at run time.
  const prototype = (ort.InferenceSession as unknown as { prototype: { run: RunMethod } }).prototype;
  const original = prototype.run;
  prototype.run = function countedRun(this: ort.InferenceSession, ...args: unknown[]) {
    Atomics.add(cells, 0, 1);
    const settle = (): void => void Atomics.sub(cells, 0, 1);
    let pending: Promise<unknown>;
    try {
      pending = original.apply(this, args);
    } catch (error) {
      settle();
      throw error;
    }
    return pending.then(
      (value) => {
        settle();
        return value;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  };
}
