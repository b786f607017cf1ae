// Installed models (main/core/model-library) and what they run on; app.info.

import type { AppInfo } from '../../common/domain';
import { readModelFolder } from '../model-library/model-folder';
import { APP_VERSION } from '../settings';
import type { HandlerContext, HandlerGroup } from './handler-context';

type ModelOperation =
  | 'app.info'
  | 'models.list'
  | 'models.register'
  | 'models.download'
  | 'models.import'
  | 'models.precisions'
  | 'models.remove'
  | 'models.use'
  | 'models.runtime';

export function modelHandlers(ctx: HandlerContext): HandlerGroup<ModelOperation> {
  const { library, models } = ctx;
  return {
    'app.info': async (): Promise<AppInfo> => ({
      version: APP_VERSION,
      libraryPath: library.location.dir,
      ffmpeg: await ctx.ffmpeg().catch(() => null),
      executionProviders: await models.availableProviders(),
      mode: ctx.mode,
    }),
    'models.list': async () => models.list(),
    'models.register': async ({ path }) => library.models.registerActive(await readModelFolder(path)),
    'models.download': async (input) => models.download(input),
    'models.import': async (input) => models.importFolder(input),
    'models.precisions': async ({ path }) => models.precisions(path),
    'models.remove': async ({ modelId }) => models.remove(modelId),
    'models.use': async ({ modelId }) => models.use(modelId),
    'models.runtime': async () => models.runtime(),
  };
}
