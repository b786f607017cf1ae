// Progress and cancellation for the cleanup passes. They are CPU loops over
// millions of points; an AbortSignal cannot fire inside a synchronous loop, so
// each pass works in slices and yields to the event loop between them.

import { cancelledError } from '../../common/errors';

export interface CleanupTaskOptions {
  signal?: AbortSignal;
  /** progress 0..1 and the stage name. */
  onProgress?: (progress: number, stage: string) => void;
}

/** How long a slice may run before yielding (keeps the process responsive). */
const SLICE_MS = 40;

/**
 * Runs `work(from, to)` over [0, total) in slices, yielding between them,
 * reporting progress and throwing StudioError('cancelled') once aborted.
 */
export async function runSliced(
  total: number,
  work: (from: number, to: number) => void,
  opts: CleanupTaskOptions,
  stage: string,
  what: string,
): Promise<void> {
  let from = 0;
  let step = 4096;
  while (from < total) {
    if (opts.signal?.aborted) throw cancelledError(what);
    const started = performance.now();
    const to = Math.min(total, from + step);
    work(from, to);
    const elapsed = performance.now() - started;
    // Aim each slice at SLICE_MS.
    step = Math.max(256, Math.min(1 << 22, Math.round(step * (elapsed > 0 ? SLICE_MS / elapsed : 2))));
    from = to;
    opts.onProgress?.(from / total, stage);
    if (from < total) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (opts.signal?.aborted) throw cancelledError(what);
}
