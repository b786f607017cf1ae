// `g2studio model …`: the installed models (list, download from the hub,
// import a local checkpoint, remove, use, runtime) through the studio's
// models.* operations, so the Models view and the CLI share one library. The
// model-side tools (convert, verify-golden, generate-random, inspect, catalog)
// are in model-tool-commands.ts. Output follows the CLI's conventions
// (main/cli/output.ts): lines or one JSON document on stdout, progress on
// stderr (a bar on a terminal), errors as message + fix.

import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { registerModelToolCommands } from './model-tool-commands';
import { formatBytes, printJson, printLine, table } from '../output';
import { capabilityText, findModel, installWith, printRuntime } from './model-support';
import { resolve } from 'node:path';
import { DEFAULT_REVISION, OFFICIAL_REPO_ID } from '../../model';
import { PRECISION_CHOICES, type PrecisionChoice } from '../../common/domain';

function precisionOption(): Option {
  return new Option(
    '--precision <p>',
    'weight precision: fp32 (most accurate), fp16 (GPUs), int8/int4 (weight-only, smaller); auto picks the most accurate one that fits this machine (see `g2studio model precisions`)',
  )
    .choices(PRECISION_CHOICES)
    .default('fp32');
}

export function registerModelCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;
  const model = program
    .command('model')
    .description('installed models (list, download, import, remove, use) and checkpoint tools');

  model
    .command('list')
    .description('the installed models; the active one is used by reconstruct and ask')
    .action(
      withStudio(async (studio, asJson) => {
        const models = await studio.run('models.list', {});
        if (asJson) return printJson(io, models);
        if (models.length === 0) {
          printLine(io, 'No model is installed yet. Download the official one with: g2studio model download');
        } else {
          printLine(
            io,
            table([
              ['ID', 'NAME', 'PRECISION', 'CAN', 'ACTIVE', 'PATH'],
              ...models.map((m) => [
                m.id,
                m.name,
                m.precision,
                capabilityText(m),
                m.active ? 'yes' : '',
                m.path,
              ]),
            ]),
          );
        }
        printLine(io);
        printRuntime(io, await studio.run('models.runtime', {}));
      }),
    );

  model
    .command('download')
    .description(
      'download a checkpoint from the model hub (resumes an interrupted download, checks every hash), convert it and make it active',
    )
    .argument('[repo]', 'hub repository id', OFFICIAL_REPO_ID)
    .option('--revision <rev>', 'branch, tag or commit', DEFAULT_REVISION)
    .addOption(precisionOption())
    .action(
      withStudio(
        async (studio, asJson, repoId: string, opts: { revision: string; precision: PrecisionChoice }) => {
          const { jobId } = await studio.run('models.download', {
            repoId,
            revision: opts.revision,
            precision: opts.precision,
          });
          const installed = await installWith(studio, io, jobId, 'download');
          if (asJson) return printJson(io, installed);
          printLine(
            io,
            `Installed ${installed.name} (${installed.precision}) as ${installed.id}; it is the active model.`,
          );
          printLine(io, `folder: ${installed.path}`);
        },
      ),
    );

  model
    .command('import')
    .description('convert a local checkpoint folder into the library and register it')
    .argument('<folder>', 'folder with model.safetensors and text/vit/dino_config.json')
    .addOption(precisionOption())
    .option('--tokenizer <path>', 'tokenizer.json or a folder with it, for checkpoints that ship without one')
    .action(
      withStudio(
        async (studio, asJson, folder: string, opts: { precision: PrecisionChoice; tokenizer?: string }) => {
          const { jobId } = await studio.run('models.import', {
            path: resolve(folder),
            precision: opts.precision,
            tokenizer: opts.tokenizer ? resolve(opts.tokenizer) : undefined,
          });
          const installed = await installWith(studio, io, jobId, 'import');
          if (asJson) return printJson(io, installed);
          printLine(
            io,
            `Installed ${installed.name} (${installed.precision}) as ${installed.id}${installed.active ? '; it is the active model' : ''}.`,
          );
          if (!installed.active) printLine(io, `Use it: g2studio model use ${installed.id}`);
        },
      ),
    );

  model
    .command('precisions')
    .description(
      'what each precision of a checkpoint costs here before converting: size on disk, memory of an 8-frame reconstruction, and what auto picks',
    )
    .argument('[folder]', 'checkpoint folder (default: the official model, before downloading it)')
    .action(
      withStudio(async (studio, asJson, folder: string | undefined) => {
        const advice = await studio.run('models.precisions', { path: folder ? resolve(folder) : undefined });
        if (asJson) return printJson(io, advice);
        const where = advice.device === 'gpu' ? 'GPU memory' : 'free memory';
        printLine(io, `${advice.checkpoint}, against ${formatBytes(advice.availableBytes)} of ${where}:`);
        printLine(
          io,
          table([
            ['PRECISION', 'ON DISK', '8-FRAME RECONSTRUCTION', 'FITS'],
            ...advice.options.map((o) => [
              o.precision,
              formatBytes(o.diskBytes),
              formatBytes(o.reconPeakBytes),
              o.fits ? 'yes' : 'no',
            ]),
          ]),
        );
        printLine(io, `auto picks ${advice.auto.reason}`);
      }),
    );

  model
    .command('remove')
    .description("unregister a model and delete the library's copy of it")
    .argument('<model>', 'model id or name')
    .action(
      withStudio(async (studio, asJson, ref: string) => {
        const target = await findModel(studio, ref);
        const removal = await studio.run('models.remove', { modelId: target.id });
        if (asJson) return printJson(io, removal);
        printLine(
          io,
          `Removed ${target.name} (${target.id})${removal.deletedFolder ? '' : `; its folder ${target.path} was left in place`}.`,
        );
        printLine(
          io,
          `Active model: ${removal.active ? `${removal.active.name} (${removal.active.id})` : 'none'}`,
        );
      }),
    );

  model
    .command('use')
    .description('make a model the active one')
    .argument('<model>', 'model id or name')
    .action(
      withStudio(async (studio, asJson, ref: string) => {
        const target = await findModel(studio, ref);
        const active = await studio.run('models.use', { modelId: target.id });
        if (asJson) return printJson(io, active);
        printLine(io, `Active model: ${active.name} (${active.id}, ${active.precision}).`);
      }),
    );

  model
    .command('runtime')
    .description(
      'execution providers on this machine (CUDA device, or how to enable it) and the active precision',
    )
    .action(
      withStudio(async (studio, asJson) => {
        const runtime = await studio.run('models.runtime', {});
        if (asJson) return printJson(io, runtime);
        printRuntime(io, runtime);
      }),
    );

  registerModelToolCommands(model, ctx);
}
