// Spatial questions over a saved scene (a job that streams tokens) and the
// scene's question history.

import { askQuestion } from '../jobs/ask-question';
import type { HandlerContext, HandlerGroup } from './handler-context';

export function qaHandlers(ctx: HandlerContext): HandlerGroup<'qa.ask' | 'qa.history'> {
  const { library, queue, models, requireScene } = ctx;
  return {
    'qa.ask': async (input) => {
      const scene = requireScene(input.sceneId);
      const modelId = models.pinModel(input.modelId);
      const job = queue.enqueue({
        kind: 'ask',
        title: `Ask about ${scene.name}`,
        sceneId: scene.id,
        run: (jobCtx) => askQuestion(ctx.jobs, { ...input, modelId }, jobCtx),
        describeSuccess: (result) => `Answered: ${String(result?.answer ?? '').slice(0, 160)}`,
      });
      models.trackJob(job.id, modelId);
      return { jobId: job.id };
    },

    'qa.history': async ({ sceneId }) => {
      requireScene(sceneId);
      return library.qa.history(sceneId);
    },
  };
}
