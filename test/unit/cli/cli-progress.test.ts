// The CLI's progress view: on a pipe, one line per stage and per 10 % step
// with the time elapsed and the time left (a duration only when measured); on
// a terminal, the bar with the stage in words and the same times.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../main/common/domain';
import { jobProgressView, progressTimeWords, progressView } from '../../../main/cli/progress';

function captured(isTTY: boolean): { io: Parameters<typeof progressView>[0]; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 200 });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    io: { stdout: new PassThrough(), stderr: stream },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

const running = (over: Partial<JobInfo>): JobInfo => ({
  id: 'job_1',
  kind: 'reconstruct',
  title: 'Reconstruct walk',
  sceneId: null,
  status: 'running',
  progress: 0,
  stage: 'starting',
  message: '',
  error: null,
  createdAt: new Date().toISOString(),
  finishedAt: null,
  result: null,
  ...over,
});

describe('CLI progress', () => {
  it('words the time: elapsed always, a duration left only from measured rates', () => {
    expect(progressTimeWords(12.4)).toBe('12 s elapsed');
    const at = '2026-12-06T07:00:00.000Z';
    expect(progressTimeWords(12.4, { stageStartedAt: at, secondsLeft: 75, estimate: 'measured' })).toBe(
      '12 s elapsed, about 1 min 15 s left',
    );
    expect(progressTimeWords(3, { stageStartedAt: at, secondsLeft: null, estimate: 'estimating' })).toBe(
      '3 s elapsed, estimating time left',
    );
    expect(progressTimeWords(90, { stageStartedAt: at, secondsLeft: null, estimate: 'overdue' })).toBe(
      '1 min 30 s elapsed, taking longer than before',
    );
    expect(
      progressTimeWords(5, {
        stageStartedAt: at,
        secondsLeft: 20,
        estimate: 'measured',
        leftUntil: 'answer',
      }),
    ).toBe('5 s elapsed, about 20 s until the answer starts');
  });

  it('on a pipe: a line per stage and 10 % step, with the times at its end', async () => {
    const { io, text } = captured(false);
    const view = jobProgressView(io, 'reconstruct');
    const at = new Date().toISOString();
    view.update(
      running({
        progress: 0.05,
        stage: 'dino',
        timing: { stageStartedAt: at, secondsLeft: null, estimate: 'estimating' },
      }),
    );
    view.update(
      running({
        progress: 0.06,
        stage: 'dino',
        timing: { stageStartedAt: at, secondsLeft: null, estimate: 'estimating' },
      }),
    );
    view.update(
      running({
        progress: 0.2,
        stage: 'geometry-prefill',
        timing: { stageStartedAt: at, secondsLeft: 64, estimate: 'measured' },
      }),
    );
    view.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(text().split('\n').filter(Boolean)).toEqual([
      'reconstruct: dino 5% (0 s elapsed, estimating time left)',
      'reconstruct: geometry-prefill 20% (0 s elapsed, about 1 min 04 s left)',
    ]);
  });

  it('on a terminal: the stage in words with the times', async () => {
    const { io, text } = captured(true);
    const view = progressView(io, 'reconstruct');
    view.update(0.3, 'geometry-prefill', undefined, {
      stageStartedAt: new Date().toISOString(),
      secondsLeft: 42,
      estimate: 'measured',
    });
    view.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).toMatch(/reconstruct \[.*\] 30% Understanding the scene \(0 s elapsed, about 42 s left\)/);
  });
});
