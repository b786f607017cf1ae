// Helpers the CLI's commands share: finding a scene by id or name, following a
// job with a progress bar (Ctrl+C cancels it). Copying an export out of the
// library is export-target.ts's.

import { resolve } from 'node:path';
import type { JobInfo, SceneDetail } from '../common/domain';
import { StudioError } from '../common/errors';
import type { Studio } from '../core/studio';
import type { CliIo } from './output';
import { jobProgressView, type JobProgressView } from './progress';

/** A scene by id, or by its exact (unique) name. */
export async function findScene(studio: Studio, ref: string): Promise<SceneDetail> {
  if (/^[A-Za-z0-9_-]{1,64}$/.test(ref)) {
    const byId = studio.library.scenes.get(ref);
    if (byId) return byId;
  }
  const scenes = await studio.run('scenes.list', {});
  const named = scenes.filter((s) => s.name === ref);
  if (named.length === 1) return await studio.run('scenes.get', { sceneId: named[0].id });
  if (named.length > 1) {
    throw new StudioError(
      'invalid-input',
      `${named.length} scenes are called "${ref}".`,
      `Use the scene id instead: ${named.map((s) => s.id).join(', ')}.`,
    );
  }
  throw new StudioError(
    'not-found',
    `There is no scene "${ref}".`,
    'Run `g2studio list` to see the scenes and their ids.',
  );
}

export async function registerModel(studio: Studio, dir: string): Promise<string> {
  const model = await studio.run('models.register', { path: resolve(dir) });
  return model.id;
}

/**
 * Show a job's progress until it ends. Ctrl+C cancels it (and waits for it to
 * stop, so nothing half-written is left). Throws the job's error if it failed.
 */
export async function followJob(
  studio: Studio,
  io: CliIo,
  jobId: string,
  title: string,
  options: { view?: JobProgressView } = {},
): Promise<JobInfo> {
  const view = options.view ?? jobProgressView(io, title);
  const unsubscribe = studio.subscribe((event) => {
    if (event.type === 'job' && event.job.id === jobId) view.update(event.job);
  });
  const onInterrupt = (): void => {
    io.stderr.write(`\nCancelling ${title}…\n`);
    void studio.call('jobs.cancel', { jobId }).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  try {
    const job = await studio.waitForJob(jobId);
    view.stop();
    if (job.status === 'succeeded') return job;
    if (job.error) throw StudioError.fromInfo(job.error);
    throw new StudioError('internal', `${job.title} ended as ${job.status}.`, 'Try again.');
  } finally {
    view.stop();
    process.off('SIGINT', onInterrupt);
    unsubscribe();
  }
}
