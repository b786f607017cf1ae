// Spatial questions over a saved scene: ask (the answer streams) and the history.

import { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { printMemoryEstimate } from '../estimate-output';
import { printJson, printLine } from '../output';
import { findScene, followJob, registerModel } from '../cli-support';
import { type JobProgressView, jobProgressView } from '../progress';
import { parseMarker } from '../cli-context';
import { type Marker, type StudioEvent } from '../../common/domain';

export function registerQaCommands(program: Command, ctx: CliContext): void {
  const { io, withStudio } = ctx;

  program
    .command('ask')
    .description('ask a spatial question about a scene (answer streams as it is generated)')
    .argument('<scene>', 'scene id or name')
    .argument('<question>', 'the question, in quotes')
    .option('--model <dir>', 'converted model folder; default: the active model')
    .option('--marker <color:frame:x:y>', 'coloured marker on a frame, repeatable', parseMarker)
    .option('--estimate', 'print the memory the question would need (and whether it fits) without asking it')
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          question: string,
          opts: { model?: string; marker?: Marker[]; estimate?: boolean },
        ) => {
          const scene = await findScene(studio, sceneRef);
          if (opts.estimate) return printMemoryEstimate(studio, io, json, 'chat', scene.id, opts.model);
          const modelId = opts.model ? await registerModel(studio, opts.model) : undefined;
          let jobId = '';
          let streamed = false;
          // Progress (image encoding, prefill) until the answer starts; then only the answer.
          const progress = jobProgressView(io, 'ask');
          const view: JobProgressView = {
            update: (job) => {
              if (!streamed) progress.update(job);
            },
            stop: () => progress.stop(),
          };
          const unsubscribe = studio.subscribe((event: StudioEvent) => {
            if (event.type === 'qa-token' && event.jobId === jobId && !json) {
              if (!streamed) progress.stop();
              streamed = true;
              io.stdout.write(event.text);
            }
          });
          try {
            ({ jobId } = await studio.run('qa.ask', {
              sceneId: scene.id,
              question,
              markers: opts.marker,
              modelId,
            }));
            const job = await followJob(studio, io, jobId, 'ask', { view });
            const history = await studio.run('qa.history', { sceneId: scene.id });
            const entry = history.find((e) => e.id === job.result?.qaId);
            if (json) return printJson(io, entry ?? job.result);
            if (!streamed) io.stdout.write(String(job.result?.answer ?? ''));
            printLine(io);
            for (const e of entry?.evidence ?? [])
              printLine(io, `  ${e.label}: ${e.value.toFixed(3)} ${e.unit}`);
          } finally {
            unsubscribe();
          }
        },
      ),
    );

  program
    .command('history')
    .description('questions asked about a scene, with answers and the model that gave them')
    .argument('<scene>', 'scene id or name')
    .action(
      withStudio(async (studio, json, sceneRef: string) => {
        const scene = await findScene(studio, sceneRef);
        const history = await studio.run('qa.history', { sceneId: scene.id });
        if (json) return printJson(io, history);
        if (history.length === 0) return printLine(io, `No questions asked about "${scene.name}" yet.`);
        for (const e of history) {
          printLine(
            io,
            `[${e.createdAt.replace('T', ' ').slice(0, 19)}] ${e.modelId} (${e.precision}, ${e.executionProvider})`,
          );
          printLine(io, `Q: ${e.question}`);
          printLine(io, `A: ${e.answer}`);
          for (const ev of e.evidence) printLine(io, `   ${ev.label}: ${ev.value.toFixed(3)} ${ev.unit}`);
          printLine(io);
        }
      }),
    );
}
