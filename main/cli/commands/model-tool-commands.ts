// `g2studio model convert|verify-golden`: converting a checkpoint for the
// runtime and checking a converted model against an official golden set, run
// in this process (no studio library needed) with progress on stderr and
// Ctrl+C to cancel. The checkpoint tools are in model-checkpoint-commands.ts.

import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { registerModelCheckpointCommands } from './model-checkpoint-commands';
import { formatBytes, printJson, printLine, table } from '../output';
import { interruptible, progressView } from '../progress';
import { fmt } from './model-support';
import { StudioError } from '../../common/errors';
import { resolve } from 'node:path';
import { convertCheckpoint, cpuNodesLine, verifyGolden, type Precision } from '../../model';

export function registerModelToolCommands(model: Command, ctx: CliContext): void {
  const { io } = ctx;
  const json = (cmd: Command): boolean => ctx.globals(cmd).json === true;
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
        const view = progressView(io, 'convert');
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
      const view = progressView(io, 'verify');
      let report;
      try {
        report = await interruptible(io, 'The golden verification', (signal) =>
          verifyGolden(resolve(goldenDir), {
            dtype: opts.dtype,
            executionProvider: ctx.globals(cmd).provider,
            signal,
            onProgress: (p, stage) => view.update(p, stage),
          }),
        );
      } finally {
        view.stop();
      }
      const compared = report.entries.filter((e) => !e.skipped);
      // A listed tensor that was not compared fails the check like a mismatch.
      const failed = report.entries.filter((e) => !e.pass || e.skipped);
      if (asJson) {
        printJson(io, {
          pass: report.pass && failed.length === 0,
          executionProvider: report.executionProvider,
          providerNotes: report.providerNotes,
          cpuNodes: report.cpuNodes,
          cpuNodeOps: report.cpuNodeOps,
          compared: compared.length,
          failed: failed.length,
          entries: report.entries,
        });
      } else {
        const shown = opts.all ? report.entries : report.entries.filter((e) => !e.skipped || !e.pass);
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
          `${compared.filter((e) => e.pass).length}/${compared.length} tensors within tolerance` +
            (skipped > 0 ? `, ${skipped} not compared (failures; use --all to list them)` : '') +
            '.',
        );
        printLine(io, `Ran on: ${report.executionProvider}.`);
        for (const note of report.providerNotes) printLine(io, `  ${note}`);
        const placement = cpuNodesLine(report.executionProvider, report);
        if (placement) printLine(io, `  ${placement}`);
      }
      if (failed.length > 0 || !report.pass) {
        throw new StudioError(
          'model-corrupt',
          `${failed.length} of ${report.entries.length} golden tensors are outside their tolerance${failed.some((e) => e.skipped) ? ' or were not compared' : ''}: ${failed
            .slice(0, 5)
            .map((e) => e.name)
            .join(', ')}${failed.length > 5 ? ', …' : ''}.`,
          'The runtime does not reproduce the official model; see the table above for the stage that diverges first.',
        );
      }
    });
  registerModelCheckpointCommands(model, ctx);
}
