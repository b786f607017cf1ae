// What the model commands share: finding an installed model, printing the
// runtime report, following an install job to the model it installed.

import { InvalidArgumentError } from 'commander';
import type { ModelInfo, ModelRuntimeInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import type { Studio } from '../../core/studio';
import { followJob } from '../cli-support';
import { formatBytes, printLine, type CliIo } from '../output';
import { jobProgressView } from '../progress';

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError('--seed must be a non-negative whole number.');
  return n;
}

export const fmt = (value: number): string =>
  Number.isNaN(value)
    ? '–'
    : value === 0
      ? '0'
      : Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4
        ? value.toExponential(2)
        : value.toPrecision(3);

export function capabilityText(model: ModelInfo): string {
  const can = [model.capabilities.reconstruct && 'reconstruct', model.capabilities.chat && 'chat'];
  return can.filter(Boolean).join(', ') || 'none';
}

/** A model by id, or by its exact (unique) name. */
export async function findModel(studio: Studio, ref: string): Promise<ModelInfo> {
  const models = await studio.run('models.list', {});
  const byId = models.find((m) => m.id === ref);
  if (byId) return byId;
  const named = models.filter((m) => m.name === ref);
  if (named.length === 1) return named[0];
  throw new StudioError(
    named.length > 1 ? 'invalid-input' : 'not-found',
    named.length > 1
      ? `${named.length} models are called "${ref}".`
      : `There is no installed model "${ref}".`,
    named.length > 1
      ? `Use the model id instead: ${named.map((m) => m.id).join(', ')}.`
      : 'Run `g2studio model list` to see the models and their ids.',
  );
}

export function printRuntime(io: CliIo, runtime: ModelRuntimeInfo): void {
  for (const p of runtime.providers) {
    const device = [p.device, p.memoryBytes ? formatBytes(p.memoryBytes) : null].filter(Boolean).join(', ');
    printLine(
      io,
      `${p.name.toUpperCase().padEnd(5)} ${p.available ? 'available' : 'unavailable'}${device ? ` (${device})` : ''}`,
    );
    if (p.reason) printLine(io, `      ${p.reason}`);
  }
  printLine(
    io,
    `provider: ${runtime.provider ?? 'none usable'} (setting: ${runtime.providerSetting}); precision: ${runtime.precision ?? 'no active model'}`,
  );
}

/** Runs a model job to its end with progress on stderr; the installed model on success. */
export async function installWith(
  studio: Studio,
  io: CliIo,
  jobId: string,
  title: string,
): Promise<ModelInfo> {
  const job = await followJob(studio, io, jobId, title, { view: jobProgressView(io, title) });
  const model = (await studio.run('models.list', {})).find((m) => m.id === job.result?.modelId);
  if (!model) throw new StudioError('internal', `${job.title} finished without a model.`, 'Try again.');
  return model;
}
