// scenes.export is a job: start it, wait for it, and hand back its
// ExportResult, or throw the StudioError it ended with (tests assert on it as
// they did when the export was a plain command).

import type { ExportResult } from '../../main/common/domain';
import { StudioError } from '../../main/common/errors';
import type { Studio } from '../../main/core/studio';

export async function exportPointsJob(
  studio: Studio,
  input: { sceneId: string; format: 'ply' | 'glb'; encoding?: 'binary' | 'ascii'; upAxis?: string },
): Promise<ExportResult> {
  const { jobId } = (await studio.call('scenes.export', input)) as { jobId: string };
  const job = await studio.waitForJob(jobId);
  if (job.status === 'succeeded' && job.result) return job.result as unknown as ExportResult;
  if (job.error) throw StudioError.fromInfo(job.error);
  throw new Error(`The export job ended as ${job.status} without an error.`);
}
