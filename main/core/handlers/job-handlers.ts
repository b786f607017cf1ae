// The job list, cancel, and Clear (finished jobs forgotten).

import type { HandlerContext, HandlerGroup } from './handler-context';

export function jobHandlers({
  queue,
}: HandlerContext): HandlerGroup<'jobs.list' | 'jobs.cancel' | 'jobs.clear'> {
  return {
    'jobs.list': async ({ sceneId }) => queue.list(sceneId),
    'jobs.cancel': async ({ jobId }) => queue.cancel(jobId),
    'jobs.clear': async ({ sceneId }) => ({ cleared: queue.forgetFinished(sceneId) }),
  };
}
