// The Jobs panel's words and times: stage names, elapsed time and the estimate
// of the time left (only once the current stage has moved for a while).
import { describe, expect, it } from 'vitest';
import { stageName } from '../../../../main/common/job-stages';
import type { JobInfo } from '../../../../main/common/domain';
import {
  advanceClock,
  formatDuration,
  jobTimeLeftWords,
  secondsLeft,
  stageSeconds,
} from '../../../../renderer/src/jobs/job-timing';

describe('job stage names', () => {
  it('says what a stage does, by job kind where an id means two things', () => {
    expect(stageName('geometry-prefill')).toBe('Understanding the scene');
    expect(stageName('decode')).toBe('Reading frames');
    expect(stageName('decode', 'ask')).toBe('Writing the answer');
    expect(stageName('some-new-stage')).toBe('Some new stage');
    expect(stageName('')).toBe('Waiting');
  });
});

describe('job time left', () => {
  it('estimates from the current stage only, after 2 s of movement', () => {
    let clock = advanceClock(undefined, 'decode', 0.1, 0);
    clock = advanceClock(clock, 'decode', 0.2, 1000);
    expect(secondsLeft(clock)).toBeNull(); // one second is too early to promise anything
    clock = advanceClock(clock, 'decode', 0.3, 4000);
    // 0.2 of the bar in 4 s: 0.7 left takes 14 s.
    expect(secondsLeft(clock)).toBeCloseTo(14, 9);
    clock = advanceClock(clock, 'geometry-prefill', 0.3, 5000);
    expect(secondsLeft(clock)).toBeNull(); // a new stage starts a new clock
    clock = advanceClock(clock, 'geometry-prefill', 0.3, 20_000);
    expect(secondsLeft(clock)).toBeNull(); // a stalled stage gives no estimate rather than infinity
  });

  it('formats durations for people', () => {
    expect(formatDuration(8.4)).toBe('8 s');
    expect(formatDuration(125)).toBe('2 min 05 s');
    expect(formatDuration(3780)).toBe('1 h 03 min');
  });
});

describe("a job's own estimate", () => {
  const job = (timing?: JobInfo['timing']): JobInfo => ({
    id: 'job_1',
    kind: 'reconstruct',
    title: 'Reconstruct walk',
    sceneId: null,
    status: 'running',
    progress: 0.3,
    stage: 'geometry-prefill',
    message: '',
    error: null,
    createdAt: '2026-12-06T07:00:00.000Z',
    finishedAt: null,
    result: null,
    ...(timing ? { timing } : {}),
  });
  const startedAt = '2026-12-06T07:00:10.000Z';
  // A clock that would give 14 s from the observed rate (as in the test above).
  const steady = advanceClock(
    advanceClock(undefined, 'geometry-prefill', 0.1, 0),
    'geometry-prefill',
    0.3,
    4000,
  );

  it('believes measured stage rates, and says so when there are none (never a number then)', () => {
    expect(
      jobTimeLeftWords(job({ stageStartedAt: startedAt, secondsLeft: 75, estimate: 'measured' }), steady),
    ).toBe('about 1 min 15 s left');
    expect(
      jobTimeLeftWords(job({ stageStartedAt: startedAt, secondsLeft: null, estimate: 'estimating' }), steady),
    ).toBe('estimating time left');
    expect(
      jobTimeLeftWords(job({ stageStartedAt: startedAt, secondsLeft: null, estimate: 'overdue' }), steady),
    ).toBe('taking longer than before');
  });

  it('falls back to the observed stage rate for jobs that give no estimate, never for a reconstruction', () => {
    const importing = { ...job({ stageStartedAt: startedAt }), kind: 'import' as const };
    expect(jobTimeLeftWords(importing, steady)).toBe('about 14 s left');
    expect(jobTimeLeftWords({ ...importing, timing: undefined }, undefined)).toBeNull();
    // Reading frames fast says nothing about the model's stages.
    expect(jobTimeLeftWords(job({ stageStartedAt: startedAt }), steady)).toBeNull();
  });

  it("counts the current stage's own time from when it began", () => {
    expect(stageSeconds(job({ stageStartedAt: startedAt }), Date.parse('2026-12-06T07:00:55.000Z'))).toBe(45);
    expect(stageSeconds(job(), Date.now())).toBeNull();
  });
});
