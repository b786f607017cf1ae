// What every group of API handlers shares. studio.ts builds it once and hands
// it to each group (scene-handlers.ts, edit-handlers.ts, …); a group returns
// its part of the handler table, and TypeScript checks that the parts together
// cover every operation of the contract (main/common/api.ts).

import type { OperationName, OperationResult, ParsedInput } from '../../common/api';
import type { FfmpegInfo, SceneSummary, StudioEvent } from '../../common/domain';
import type { SceneEditor } from '../editing/scene-editor';
import type { JobQueue } from '../jobs/job-queue';
import type { StudioContext } from '../jobs/studio-context';
import type { Library } from '../library/library';
import type { ModelManager } from '../model-library/model-manager';
import type { Uploads } from '../uploads';

export type Handler<N extends OperationName> = (input: ParsedInput<N>) => Promise<OperationResult<N>>;
export type Handlers = { [N in OperationName]: Handler<N> };
/** A group's part of the table: the handlers of the operations named in N. */
export type HandlerGroup<N extends OperationName> = { [K in N]: Handler<K> };

export interface HandlerContext {
  library: Library;
  queue: JobQueue;
  models: ModelManager;
  editor: SceneEditor;
  uploads: Uploads;
  /** What the long-running jobs (import, reconstruct, ask, export) are given. */
  jobs: StudioContext;
  emit(event: StudioEvent): void;
  ffmpeg(): Promise<FfmpegInfo>;
  mode: 'electron' | 'web' | 'cli';
  /** The scene's summary, or a not-found StudioError. */
  requireScene(sceneId: string): SceneSummary;
}
