// `g2studio model …`: the installed models (list, download from the hub,
// import a local checkpoint, remove, use, runtime — through the studio's
// models.* operations, so the Models view and the CLI share one library) and
// the model-side tools (convert a checkpoint, verify against the golden set,
// generate random checkpoints, inspect a checkpoint).
// Registered by main/cli/index.ts as a command contributor. Output follows the
// CLI's conventions (main/cli/output.ts): lines or one JSON document on stdout,
// progress on stderr (a bar on a terminal), errors as message + fix.

import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import type { JobInfo, ModelInfo, ModelRemoval, ModelRuntimeInfo } from '../common/domain';
import { StudioError, cancelledError } from '../common/errors';
import { followJob } from './cli-support';
import { formatBytes, printJson, printLine, processIo, table, type CliIo } from './output';
import { createStudio, type Studio } from '../core/studio';
import {
  DEFAULT_REVISION,
  OFFICIAL_REPO_ID,
  RANDOM_CHECKPOINT_PRESETS,
  convertCheckpoint,
  generateRandomCheckpoint,
  modelCatalog,
  openCheckpoint,
  parameterCount,
  verifyGolden,
  type Precision,
  type RandomCheckpointPreset,
} from '../model';

export interface ModelCommandsContext {
  libraryPath: () => string;
  /** Where to write (tests pass their own); defaults to the process streams. */
  io?: CliIo;
}

interface StageProgress {
  update(progress: number, stage: string): void;
  stop(): void;
}

/** A bar on a terminal; otherwise one line per stage and 10 % step on stderr (stdout stays clean). */
function stageProgress(io: CliIo, title: string, quiet: boolean): StageProgress {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (io.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${title} [{bar}] {percentage}% {stage}`,
      stream: io.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    });
    bar.start(100, 0, { stage: 'starting' });
    return { update: (p, stage) => bar.update(Math.round(p * 100), { stage }), stop: () => bar.stop() };
  }
  let lastStage = '';
  let lastStep = -1;
  return {
    update: (p, stage) => {
      const step = Math.floor(p * 10);
      if (stage === lastStage && step === lastStep) return;
      lastStage = stage;
      lastStep = step;
      io.stderr.write(`${title}: ${stage} ${Math.round(p * 100)}%\n`);
    },
    stop: () => undefined,
  };
}

/** An AbortSignal that fires on Ctrl+C / SIGTERM for the duration of `run`. */
async function interruptible<T>(
  io: CliIo,
  what: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) return;
    io.stderr.write(`\nCancelling ${what}…\n`);
    controller.abort(cancelledError(what));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof StudioError && error.code === 'cancelled')) {
      throw cancelledError(what);
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError('--seed must be a non-negative whole number.');
  return n;
}

const fmt = (value: number): string =>
  Number.isNaN(value)
    ? '–'
    : value === 0
      ? '0'
      : Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4
        ? value.toExponential(2)
        : value.toPrecision(3);

/**
 * A model job's progress on stderr: a bar with the stage and the job's line (bytes while downloading) on a
 * terminal, else one line per stage and per 10 % step.
 */
function modelJobView(io: CliIo, title: string): { update(job: JobInfo): void; stop(): void } {
  if (io.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${title} [{bar}] {percentage}% {stage}: {message}`,
      stream: io.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    });
    bar.start(100, 0, { stage: 'queued', message: '' });
    return {
      update: (job) =>
        bar.update(Math.round(job.progress * 100), { stage: job.stage, message: job.message.slice(0, 60) }),
      stop: () => bar.stop(),
    };
  }
  let last = '';
  return {
    update: (job) => {
      if (job.status !== 'running') return;
      const key = `${job.stage}:${Math.floor(job.progress * 10)}`;
      if (key === last) return;
      last = key;
      io.stderr.write(`${title}: ${job.stage} ${Math.round(job.progress * 100)}% - ${job.message}\n`);
    },
    stop: () => undefined,
  };
}

function capabilityText(model: ModelInfo): string {
  const can = [model.capabilities.reconstruct && 'reconstruct', model.capabilities.chat && 'chat'];
  return can.filter(Boolean).join(', ') || 'none';
}

/** A model by id, or by its exact (unique) name. */
async function findModel(studio: Studio, ref: string): Promise<ModelInfo> {
  const models = (await studio.call('models.list', {})) as ModelInfo[];
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

function printRuntime(io: CliIo, runtime: ModelRuntimeInfo): void {
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

export function registerModelCommands(program: Command, ctx: ModelCommandsContext): void {
  const io = ctx.io ?? processIo;
  const json = (cmd: Command): boolean => cmd.optsWithGlobals<{ json?: boolean }>().json === true;

  /** Open the studio on the command line's library (and provider setting) for one command. */
  const withStudio =
    <A extends unknown[]>(fn: (studio: Studio, json: boolean, ...args: A) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const studio = await createStudio({
        libraryPath: ctx.libraryPath(),
        mode: 'cli',
        executionProvider: cmd.optsWithGlobals<{ provider?: 'auto' | 'cpu' | 'cuda' }>().provider,
      });
      try {
        await fn(studio, json(cmd), ...(args.slice(0, -1) as A));
      } finally {
        await studio.close();
      }
    };

  /** Run a model job to its end with progress on stderr; the installed model on success. */
  const installWith = async (studio: Studio, jobId: string, title: string): Promise<ModelInfo> => {
    const job = await followJob(studio, io, jobId, title, { view: modelJobView(io, title) });
    const models = (await studio.call('models.list', {})) as ModelInfo[];
    const model = models.find((m) => m.id === job.result?.modelId);
    if (!model) throw new StudioError('internal', `${job.title} finished without a model.`, 'Try again.');
    return model;
  };

  const model = program
    .command('model')
    .description('installed models (list, download, import, remove, use) and checkpoint tools');

  model
    .command('list')
    .description('the installed models; the active one is used by reconstruct and ask')
    .action(
      withStudio(async (studio, asJson) => {
        const models = (await studio.call('models.list', {})) as ModelInfo[];
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
        printRuntime(io, (await studio.call('models.runtime', {})) as ModelRuntimeInfo);
      }),
    );

  model
    .command('download')
    .description(
      'download a checkpoint from the model hub (resumes an interrupted download, checks every hash), convert it and make it active',
    )
    .argument('[repo]', 'hub repository id', OFFICIAL_REPO_ID)
    .option('--revision <rev>', 'branch, tag or commit', DEFAULT_REVISION)
    .addOption(new Option('--precision <p>', 'weight precision').choices(['fp32', 'fp16']).default('fp32'))
    .action(
      withStudio(
        async (studio, asJson, repoId: string, opts: { revision: string; precision: 'fp32' | 'fp16' }) => {
          const { jobId } = (await studio.call('models.download', {
            repoId,
            revision: opts.revision,
            precision: opts.precision,
          })) as { jobId: string };
          const installed = await installWith(studio, jobId, 'download');
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
    .addOption(new Option('--precision <p>', 'weight precision').choices(['fp32', 'fp16']).default('fp32'))
    .option('--tokenizer <path>', 'tokenizer.json or a folder with it, for checkpoints that ship without one')
    .action(
      withStudio(
        async (studio, asJson, folder: string, opts: { precision: 'fp32' | 'fp16'; tokenizer?: string }) => {
          const { jobId } = (await studio.call('models.import', {
            path: resolve(folder),
            precision: opts.precision,
            tokenizer: opts.tokenizer ? resolve(opts.tokenizer) : undefined,
          })) as { jobId: string };
          const installed = await installWith(studio, jobId, 'import');
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
    .command('remove')
    .description("unregister a model and delete the library's copy of it")
    .argument('<model>', 'model id or name')
    .action(
      withStudio(async (studio, asJson, ref: string) => {
        const target = await findModel(studio, ref);
        const removal = (await studio.call('models.remove', { modelId: target.id })) as ModelRemoval;
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
        const active = (await studio.call('models.use', { modelId: target.id })) as ModelInfo;
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
        const runtime = (await studio.call('models.runtime', {})) as ModelRuntimeInfo;
        if (asJson) return printJson(io, runtime);
        printRuntime(io, runtime);
      }),
    );

  model
    .command('convert')
    .description(
      'convert an official G2VLM checkpoint folder into the runtime format (ONNX graphs + weights)',
    )
    .argument('<checkpoint-dir>', 'folder with model.safetensors and text/vit/dino_config.json')
    .requiredOption('--out <model-dir>', 'output folder for the converted model (must not exist)')
    .addOption(
      new Option('--precision <precision>', 'weight precision (int8/int4: weight-only, for CPUs)')
        .choices(['fp32', 'fp16', 'int8', 'int4'])
        .default('fp32'),
    )
    .addOption(
      new Option('--dtype <precision>', 'alias of --precision').choices(['fp32', 'fp16', 'int8', 'int4']),
    )
    .option(
      '--tokenizer <path>',
      'tokenizer.json or a folder with it, for checkpoints that ship without one (needed to ask questions)',
    )
    .action(
      async (
        checkpointDir: string,
        opts: { out: string; precision: Precision; dtype?: Precision; tokenizer?: string },
        cmd: Command,
      ) => {
        const asJson = json(cmd);
        const view = stageProgress(io, 'convert', false);
        const started = performance.now();
        try {
          const manifest = await interruptible(io, 'The conversion', (signal) =>
            convertCheckpoint(resolve(checkpointDir), resolve(opts.out), {
              precision: opts.dtype ?? opts.precision,
              tokenizerPath: opts.tokenizer,
              signal,
              onProgress: (p, stage) => view.update(p, stage),
            }),
          );
          view.stop();
          const seconds = (performance.now() - started) / 1000;
          if (asJson) return printJson(io, { modelDir: resolve(opts.out), seconds, manifest });
          printLine(
            io,
            `Converted ${checkpointDir} -> ${resolve(opts.out)} (${manifest.dtype}, ${seconds.toFixed(1)} s)`,
          );
          printLine(io, `model id:  ${manifest.id}`);
          printLine(io, `graphs:    ${Object.keys(manifest.graphs).join(', ')}`);
          printLine(io, `weights:   ${formatBytes(manifest.weightsBytes)}`);
          printLine(io, `Use it: g2studio reconstruct <scene> --model ${resolve(opts.out)}`);
        } finally {
          view.stop();
        }
      },
    );

  model
    .command('verify-golden')
    .description('convert a golden checkpoint, run it, and compare every tensor with the official outputs')
    .argument('<golden-dir>', 'a golden folder with manifest.json (e.g. shared/golden/g2vlm-tiny-a)')
    .addOption(new Option('--dtype <dtype>', 'precision to verify').choices(['fp32', 'fp16']).default('fp32'))
    .option('--all', 'list every tensor, not only failures and a summary', false)
    .action(async (goldenDir: string, opts: { dtype: 'fp32' | 'fp16'; all: boolean }, cmd: Command) => {
      const asJson = json(cmd);
      const view = stageProgress(io, 'verify', false);
      let report;
      try {
        report = await interruptible(io, 'The golden verification', (signal) =>
          verifyGolden(resolve(goldenDir), {
            dtype: opts.dtype,
            signal,
            onProgress: (p, stage) => view.update(p, stage),
          }),
        );
      } finally {
        view.stop();
      }
      const compared = report.entries.filter((e) => !e.skipped);
      const failed = compared.filter((e) => !e.pass);
      if (asJson) {
        printJson(io, {
          pass: report.pass && failed.length === 0,
          compared: compared.length,
          failed: failed.length,
          entries: report.entries,
        });
      } else {
        const shown = opts.all ? report.entries : report.entries.filter((e) => !e.skipped);
        printLine(
          io,
          table([
            ['TENSOR', 'MAX ABS', 'MAX REL', 'ATOL', 'RTOL', 'RESULT'],
            ...shown.map((e) => [
              e.name,
              fmt(e.maxAbs),
              fmt(e.maxRel),
              fmt(e.atol),
              fmt(e.rtol),
              e.skipped ? `skipped (${e.skipped})` : e.pass ? 'PASS' : `FAIL${e.note ? ` (${e.note})` : ''}`,
            ]),
          ]),
        );
        const skipped = report.entries.length - compared.length;
        printLine(io, '');
        printLine(
          io,
          `${compared.length - failed.length}/${compared.length} tensors within tolerance` +
            (skipped > 0 ? `, ${skipped} not produced by this runtime (use --all to list them)` : '') +
            '.',
        );
      }
      if (failed.length > 0 || !report.pass) {
        throw new StudioError(
          'model-corrupt',
          `${failed.length} of ${compared.length} golden tensors are outside their tolerance: ${failed
            .slice(0, 5)
            .map((e) => e.name)
            .join(', ')}${failed.length > 5 ? ', …' : ''}.`,
          'The runtime does not reproduce the official model; see the table above for the stage that diverges first.',
        );
      }
    });

  model
    .command('generate-random')
    .description('write a random-weight G2VLM checkpoint in the official layout (benchmarks, tests)')
    .argument('<out-dir>', 'output folder (must not exist or be empty)')
    .addOption(
      new Option('--preset <preset>', 'configuration')
        .choices(Object.keys(RANDOM_CHECKPOINT_PRESETS))
        .makeOptionMandatory(),
    )
    .addOption(new Option('--dtype <dtype>', 'storage dtype').choices(['f32', 'bf16']).default('bf16'))
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .action(
      async (
        outDir: string,
        opts: { preset: RandomCheckpointPreset; dtype: 'f32' | 'bf16'; seed: number },
        cmd: Command,
      ) => {
        const asJson = json(cmd);
        const view = stageProgress(io, 'generate', false);
        const started = performance.now();
        try {
          const result = await interruptible(io, 'Generating the checkpoint', (signal) =>
            generateRandomCheckpoint(resolve(outDir), opts.preset, {
              seed: opts.seed,
              dtype: opts.dtype === 'f32' ? 'F32' : 'BF16',
              signal,
              onProgress: (p) => view.update(p.progress, p.stage),
            }),
          );
          view.stop();
          const seconds = (performance.now() - started) / 1000;
          if (asJson)
            return printJson(io, {
              ...result,
              preset: opts.preset,
              dtype: opts.dtype,
              seed: opts.seed,
              seconds,
            });
          printLine(
            io,
            `Wrote a random ${opts.preset} checkpoint to ${result.dir}: ${result.parameterCount.toLocaleString('en-US')} parameters, ` +
              `${formatBytes(result.weightBytes)} (${opts.dtype}, seed ${opts.seed}, ${seconds.toFixed(1)} s).`,
          );
        } finally {
          view.stop();
        }
      },
    );

  model
    .command('inspect')
    .description('validate a checkpoint folder and summarise its configuration')
    .argument('<checkpoint-dir>', 'folder with model.safetensors and text/vit/dino_config.json')
    .action(async (checkpointDir: string, _opts: unknown, cmd: Command) => {
      const asJson = json(cmd);
      const checkpoint = await openCheckpoint(resolve(checkpointDir));
      try {
        const { config } = checkpoint;
        const params = parameterCount(config);
        const weightBytes = checkpoint
          .tensorNames()
          .reduce((sum, name) => sum + checkpoint.info(name).byteLength, 0);
        const catalogMatch = modelCatalog().models.find((entry) => entry.matches(config));
        const summary = {
          dir: resolve(checkpointDir),
          valid: true,
          storageDtype: checkpoint.storageDtype,
          parameterCount: params,
          weightBytes,
          tensorCount: checkpoint.tensorNames().length,
          catalogMatch: catalogMatch?.id ?? null,
          config,
        };
        if (asJson) return printJson(io, summary);
        const { text, vit, dino, decoders, specialTokens } = config;
        printLine(
          io,
          `${summary.dir}: valid G2VLM checkpoint${catalogMatch ? ` (${catalogMatch.name} configuration)` : ''}`,
        );
        printLine(
          io,
          `parameters: ${params.toLocaleString('en-US')} in ${summary.tensorCount} tensors, ${checkpoint.storageDtype}, ${formatBytes(weightBytes)}`,
        );
        printLine(
          io,
          table([
            ['PART', 'CONFIGURATION'],
            [
              'LLM (MoT)',
              `hidden ${text.hiddenSize}, ${text.numLayers} layers x 2 experts, heads ${text.numHeads}/${text.numKvHeads} kv (dim ${text.headDim}), MLP ${text.intermediateSize}, vocab ${text.vocabSize}`,
            ],
            [
              'DINOv2-reg',
              `hidden ${dino.hiddenSize}, ${dino.numLayers} layers, ${dino.numHeads} heads, ${dino.numRegisters} registers, patch ${dino.patchSize}, ${dino.positionGridSide}x${dino.positionGridSide} position grid`,
            ],
            [
              'vision tower',
              `width ${vit.embedDim}, ${vit.depth} blocks, ${vit.numHeads} heads, merge ${vit.spatialMergeSize}, out ${vit.outHiddenSize}`,
            ],
            [
              'decoders',
              `width ${decoders.width}, ${decoders.depth} blocks, ${decoders.numHeads} heads; point/global out ${decoders.pointOutDim}, camera out ${decoders.cameraOutDim}`,
            ],
            [
              'special ids',
              `bos ${specialTokens.bos}, eos ${specialTokens.eos}, image ${specialTokens.startOfImage}..${specialTokens.endOfImage}, eot ${specialTokens.endOfText} (${specialTokens.source})`,
            ],
          ]),
        );
      } finally {
        await checkpoint.close();
      }
    });

  model
    .command('catalog')
    .description('list the known G2VLM checkpoints')
    .action(async (_opts: unknown, cmd: Command) => {
      const catalog = modelCatalog();
      if (json(cmd)) return printJson(io, catalog.raw);
      printLine(
        io,
        table([
          ['ID', 'HUB', 'REVISION', 'LICENCE', 'PARAMETERS', 'WEIGHTS'],
          ...catalog.models.map((m) => [
            m.id,
            m.hubId,
            m.revision,
            m.licence,
            m.parameterCount.toLocaleString('en-US'),
            formatBytes(m.weightsBytes),
          ]),
        ]),
      );
    });
}
