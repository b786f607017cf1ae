// `g2studio model generate-random|inspect|catalog`: checkpoint tools — random
// checkpoints of the real architectures for tests and benchmarks, what a
// checkpoint folder holds, and the catalog of known checkpoints.

import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { formatBytes, printJson, printLine, table } from '../output';
import { interruptible, progressView } from '../progress';
import { parseSeed } from './model-support';
import { resolve } from 'node:path';
import {
  RANDOM_CHECKPOINT_PRESETS,
  type RandomCheckpointPreset,
  generateRandomCheckpoint,
  randomCheckpointSize,
  modelCatalog,
  openCheckpoint,
  parameterCount,
} from '../../model';

export function registerModelCheckpointCommands(model: Command, ctx: CliContext): void {
  const { io } = ctx;
  const json = (cmd: Command): boolean => ctx.globals(cmd).json === true;
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
    .option('--dry-run', 'print the parameter count and size without writing anything', false)
    .action(
      async (
        outDir: string,
        opts: { preset: RandomCheckpointPreset; dtype: 'f32' | 'bf16'; seed: number; dryRun: boolean },
        cmd: Command,
      ) => {
        const asJson = json(cmd);
        if (opts.dryRun) {
          const size = randomCheckpointSize(opts.preset, opts.dtype === 'f32' ? 'F32' : 'BF16');
          if (asJson) return printJson(io, { ...size, preset: opts.preset, dtype: opts.dtype, dryRun: true });
          return printLine(
            io,
            `A random ${opts.preset} checkpoint would hold ${size.parameterCount.toLocaleString('en-US')} parameters, ${formatBytes(size.weightBytes)} (${opts.dtype}); nothing written.`,
          );
        }
        const view = progressView(io, 'generate');
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
