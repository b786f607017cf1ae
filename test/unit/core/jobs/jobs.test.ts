import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { JobQueue } from '../../../../main/core/jobs/job-queue';
import { Library } from '../../../../main/core/library/library';
import { tempDir } from '../../../support/library-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function setup(progressIntervalMs = 100): {
  library: Library;
  queue: JobQueue;
  events: JobInfo[];
  dir: string;
} {
  const { dir, cleanup } = tempDir('g2-jobs-');
  const library = Library.open(dir);
  cleanups.push(cleanup);
  cleanups.unshift(() => library.close());
  const events: JobInfo[] = [];
  const queue = new JobQueue({
    store: library.jobs,
    onChange: (job) => events.push(job),
    progressIntervalMs,
  });
  return { library, queue, events, dir };
}

/** Resolves once the signal aborts (what a well-behaved job does). */
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

describe('job queue', () => {
  it('reports progress with stages, throttled to about 10 events a second, and persists the result', async () => {
    const { library, queue, events } = setup(100);
    const job = queue.enqueue({
      kind: 'import',
      title: 'Import walk.mp4',
      run: async (ctx) => {
        const start = Date.now();
        for (let i = 0; i <= 1000; i++) {
          ctx.progress(i / 1000, i < 500 ? 'decode' : 'encode');
          if (i % 50 === 0) await sleep(25); // ~500 ms of work
        }
        expect(Date.now() - start).toBeGreaterThan(400);
        return { sceneId: 'scn_x' };
      },
      describeSuccess: (result) => `Imported ${String(result?.sceneId)}`,
    });
    expect(job.status).toBe('queued');
    const final = await queue.wait(job.id);
    expect(final).toMatchObject({
      status: 'succeeded',
      progress: 1,
      stage: 'done',
      message: 'Imported scn_x',
    });
    expect(final.result).toEqual({ sceneId: 'scn_x' });
    const progressEvents = events.filter((e) => e.id === job.id && e.status === 'running');
    // 1001 progress calls over ~0.5 s: at most ~10/s plus the stage change and start.
    expect(progressEvents.length).toBeLessThan(15);
    expect(progressEvents.length).toBeGreaterThan(2);
    // Progress never goes backwards and the stage names come through.
    const values = progressEvents.map((e) => e.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(new Set(progressEvents.map((e) => e.stage))).toContain('encode');
    expect(library.jobs.get(job.id)).toMatchObject({ status: 'succeeded', result: { sceneId: 'scn_x' } });
  });

  it('cancels a running job through its AbortSignal', async () => {
    const { library, queue } = setup();
    let sawAbort = false;
    const job = queue.enqueue({
      kind: 'reconstruct',
      title: 'Reconstruct kitchen',
      run: async (ctx) => {
        ctx.progress(0.3, 'dino');
        try {
          await untilAborted(ctx.signal);
        } finally {
          sawAbort = ctx.signal.aborted;
        }
      },
    });
    await sleep(50);
    expect(queue.get(job.id)?.status).toBe('running');
    queue.cancel(job.id);
    const final = await queue.wait(job.id);
    expect(sawAbort).toBe(true);
    expect(final.status).toBe('cancelled');
    expect(final.error?.code).toBe('cancelled');
    expect(final.message).toMatch(/cancelled/);
    expect(library.jobs.get(job.id)?.status).toBe('cancelled');
  });

  it('runs one job at a time; a queued job cancelled before it starts never runs', async () => {
    const { queue } = setup();
    const order: string[] = [];
    const first = queue.enqueue({
      kind: 'import',
      title: 'first',
      run: async () => {
        order.push('first start');
        await sleep(80);
        order.push('first end');
      },
    });
    const second = queue.enqueue({
      kind: 'import',
      title: 'second',
      run: async () => {
        order.push('second');
      },
    });
    const third = queue.enqueue({
      kind: 'import',
      title: 'third',
      run: async () => {
        order.push('third');
      },
    });
    expect(queue.cancel(second.id).status).toBe('cancelled');
    await queue.wait(first.id);
    await queue.wait(third.id);
    expect(order).toEqual(['first start', 'first end', 'third']);
    expect((await queue.wait(second.id)).status).toBe('cancelled');
  });

  it('records a typed error for a failed job and a readable one for an unexpected error', async () => {
    const { queue } = setup();
    const typed = queue.enqueue({
      kind: 'import',
      title: 'Import notes.mp4',
      run: async () => {
        throw new StudioError('unsupported-file', '"notes.mp4" is not a video.', 'Import an MP4 video.');
      },
    });
    const unexpected = queue.enqueue({
      kind: 'export',
      title: 'Export',
      run: async () => {
        throw new RangeError('boom');
      },
    });
    const a = await queue.wait(typed.id);
    expect(a).toMatchObject({
      status: 'failed',
      error: { code: 'unsupported-file', fix: 'Import an MP4 video.' },
    });
    expect(a.message).toBe('Import notes.mp4 failed: "notes.mp4" is not a video.');
    const b = await queue.wait(unexpected.id);
    expect(b.status).toBe('failed');
    expect(b.error?.code).toBe('internal');
    expect(b.error?.message).toMatch(/boom/);
  });

  it('keeps job history across a reopen; a second open does not fail jobs its owner is still running', async () => {
    const { library, queue, dir } = setup();
    const done = queue.enqueue({
      kind: 'import',
      title: 'done',
      sceneId: null,
      run: async () => ({ ok: true }),
    });
    await queue.wait(done.id);
    const running = queue.enqueue({
      kind: 'reconstruct',
      title: 'running',
      run: (ctx) => untilAborted(ctx.signal),
    });
    await sleep(30);
    expect(library.jobs.get(running.id)?.status).toBe('running');

    // Another front door (e.g. the CLI beside the app) opens the same library.
    const second = Library.open(dir);
    try {
      expect(second.interruptedJobs).toBe(0);
      const jobs = second.jobs.list();
      expect(jobs.map((j) => j.title).sort()).toEqual(['done', 'running']);
      expect(jobs.find((j) => j.title === 'done')?.status).toBe('succeeded');
      expect(jobs.find((j) => j.title === 'running')?.status).toBe('running');
    } finally {
      second.close();
    }
    queue.cancel(running.id);
    expect((await queue.wait(running.id)).status).toBe('cancelled');
    expect(library.jobs.get(running.id)?.status).toBe('cancelled');
  });

  it('keeps the newest finished jobs when the history grows long', async () => {
    const { library, queue } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const job = queue.enqueue({ kind: 'export', title: `export ${i}`, run: async () => undefined });
      await queue.wait(job.id);
      ids.push(job.id);
      await sleep(2); // distinct created_at
    }
    expect(library.jobs.prune(5)).toBe(3);
    expect(library.jobs.list().map((j) => j.id)).toEqual(ids.slice(3).reverse());
  });

  it('forgets finished jobs on Clear, keeps running ones, and hides the jobs of a deleted scene', async () => {
    const { library, queue } = setup();
    const scene = library.scenes.create({
      name: 'doomed',
      kind: 'pointcloud',
      source: null,
      frames: [],
      points: { positions: new Float32Array([0, 0, 1]), colors: null, count: 1 },
    });
    const ofScene = queue.enqueue({
      kind: 'export',
      title: 'export scene',
      sceneId: scene.id,
      run: async () => undefined,
    });
    await queue.wait(ofScene.id);
    const loose = queue.enqueue({ kind: 'export', title: 'export loose', run: async () => undefined });
    await queue.wait(loose.id);
    const running = queue.enqueue({ kind: 'export', title: 'long', run: (ctx) => untilAborted(ctx.signal) });
    await sleep(20);
    expect(
      library.jobs
        .list()
        .map((j) => j.title)
        .sort(),
    ).toEqual(['export loose', 'export scene', 'long']);

    library.scenes.delete(scene.id);
    expect(
      library.jobs
        .list()
        .map((j) => j.title)
        .sort(),
    ).toEqual(['export loose', 'long']);

    expect(queue.forgetFinished()).toBe(2); // the loose export and the deleted scene's
    expect(library.jobs.list().map((j) => j.title)).toEqual(['long']);
    queue.cancel(running.id);
    await queue.wait(running.id);
  });
  it("carries the stage's start and the work's own time left while running; finished jobs have no clock", async () => {
    const { queue, events } = setup(10);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const job = queue.enqueue({
      kind: 'reconstruct',
      title: 'Reconstruct walk',
      run: async (ctx) => {
        ctx.progress(0.05, 'dino', { secondsLeft: null, estimate: 'estimating' });
        await sleep(30);
        ctx.progress(0.1, 'dino', { secondsLeft: null, estimate: 'estimating' });
        await sleep(30);
        ctx.progress(0.15, 'geometry-prefill', { secondsLeft: 42, estimate: 'measured' });
        await sleep(30);
        ctx.progress(0.5, 'geometry-prefill');
        await gate;
      },
    });
    while (!events.some((e) => e.id === job.id && e.progress === 0.5)) await sleep(5);
    const running = events.filter((e) => e.id === job.id && e.status === 'running' && e.stage !== 'starting');
    const dino = running.filter((e) => e.stage === 'dino');
    const prefill = running.filter((e) => e.stage === 'geometry-prefill');
    expect(dino.length).toBeGreaterThanOrEqual(2);
    expect(new Set(dino.map((e) => e.timing?.stageStartedAt)).size).toBe(1); // one start per stage
    expect(dino[0].timing).toMatchObject({ secondsLeft: null, estimate: 'estimating' });
    expect(prefill[0].timing).toMatchObject({ secondsLeft: 42, estimate: 'measured' });
    expect(Date.parse(prefill[0].timing!.stageStartedAt)).toBeGreaterThan(
      Date.parse(dino[0].timing!.stageStartedAt),
    );
    // A step that gives no estimate keeps the stage's start and promises nothing.
    expect(prefill.at(-1)!.timing).toEqual({ stageStartedAt: prefill[0].timing!.stageStartedAt });
    // jobs.list shows a live job as it is now (with its clock), not as stored.
    expect(queue.list().find((j) => j.id === job.id)?.timing?.stageStartedAt).toBe(
      prefill[0].timing!.stageStartedAt,
    );
    release();
    const final = await queue.wait(job.id);
    expect(final.status).toBe('succeeded');
    expect(final.timing).toBeUndefined();
    expect(queue.list().find((j) => j.id === job.id)?.timing).toBeUndefined();
  });
});
