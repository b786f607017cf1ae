// `g2studio edit …`: a scene's non-destructive edit stack for scripts. Each
// command goes through the same API operations as the viewer, so an edit made
// here shows in the UI and the other way round.

import { Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { findScene } from '../cli-support';
import { SCORE_NAMES, parsePositive, parseVec3, printEditState, usage } from './edit-support';
import { type Studio } from '../../core/studio';
import { type SceneEditState } from '../../common/domain';
import { type Edit } from '../../common/edit-stack';
import { type Vec3 } from '../../core/geometry/measure';

export function registerEditCommands(program: Command, { io, withStudio }: CliContext): void {
  const edit = program
    .command('edit')
    .description(
      "a scene's non-destructive edit stack: list, undo, redo, filter, crop, delete, hide frames, voxel",
    );

  /** An edit command: find the scene, run one edits.* call, print the stack it leaves. */
  const onStack = <A extends unknown[]>(
    call: (studio: Studio, sceneId: string, ...args: A) => Promise<SceneEditState>,
  ) =>
    withStudio(async (studio, json, sceneRef: string, ...args: A) => {
      const scene = await findScene(studio, sceneRef);
      printEditState(io, json, await call(studio, scene.id, ...args));
    });
  const pushing = (build: (opts: Record<string, unknown>) => Edit) =>
    onStack((studio, sceneId, opts: Record<string, unknown>) =>
      studio.run('edits.push', { sceneId, edit: build(opts) }),
    );

  edit
    .command('list')
    .description('the edits in order and how many points they keep')
    .argument('<scene>', 'scene id or name')
    .action(onStack((studio, sceneId) => studio.run('edits.get', { sceneId })));

  for (const action of ['undo', 'redo'] as const) {
    edit
      .command(action)
      .description(action === 'undo' ? 'undo the last edit' : 'redo the last undone edit')
      .argument('<scene>', 'scene id or name')
      .action(onStack((studio, sceneId) => studio.run(`edits.${action}`, { sceneId })));
  }

  edit
    .command('filter')
    .description('quality filter: depth edges, multi-view inconsistency or statistical outliers')
    .argument('<scene>', 'scene id or name')
    .addOption(
      new Option('--score <score>', 'what to score points by')
        .choices(Object.keys(SCORE_NAMES))
        .makeOptionMandatory(),
    )
    .option('--remove-percent <percent>', 'remove this share of the worst points (0-100)', Number)
    .option('--threshold <value>', 'keep points scoring at most this', Number)
    .option('--neighbours <k>', 'neighbours of the outlier score (default 8)', Number)
    .action(
      pushing((opts) => {
        const percent = opts.removePercent as number | undefined;
        const threshold = opts.threshold as number | undefined;
        if ((percent === undefined) === (threshold === undefined)) {
          throw usage('Give exactly one of --remove-percent or --threshold.');
        }
        return {
          kind: 'filter',
          params: {
            score: SCORE_NAMES[opts.score as string],
            cut:
              percent !== undefined
                ? { mode: 'percentile', removePercent: percent }
                : { mode: 'threshold', value: threshold as number },
            ...(opts.neighbours !== undefined ? { neighbours: opts.neighbours as number } : {}),
          },
        };
      }),
    );

  for (const [name, description] of [
    ['crop', 'keep only the points inside a box'],
    ['delete-box', 'delete the points inside a box'],
    ['keep-box', 'keep only the points inside a box (like crop, as a selection edit)'],
  ] as const) {
    edit
      .command(name)
      .description(`${description} (scene units, the stored OpenCV axes)`)
      .argument('<scene>', 'scene id or name')
      .requiredOption('--min <x,y,z>', 'box corner', parseVec3)
      .requiredOption('--max <x,y,z>', 'opposite box corner', parseVec3)
      .action(
        pushing((opts) => {
          const box = { min: opts.min as Vec3, max: opts.max as Vec3 };
          if (name === 'crop') return { kind: 'crop', params: { box } };
          return {
            kind: name === 'delete-box' ? 'delete-selection' : 'keep-selection',
            params: { selection: { kind: 'box', box } },
          };
        }),
      );
  }

  edit
    .command('hide-frames')
    .description('hide the points of these frames (the whole hidden set; none shows every frame)')
    .argument('<scene>', 'scene id or name')
    .argument('[frames...]', 'frame indices as `g2studio show` lists them')
    .action(
      onStack((studio, sceneId, frames: string[]) => {
        const frameIndices = frames.map((value) => {
          const n = Number(value);
          if (!Number.isInteger(n) || n < 0) throw usage(`"${value}" is not a frame index.`);
          return n;
        });
        return studio.run('edits.push', {
          sceneId,
          edit: { kind: 'hide-frames', params: { frameIndices } },
        });
      }),
    );

  edit
    .command('voxel')
    .description('downsample to one point per voxel (mean position and colour)')
    .argument('<scene>', 'scene id or name')
    .requiredOption('--size <units>', 'voxel edge in scene units', parsePositive('--size'))
    .action(pushing((opts) => ({ kind: 'voxel', params: { voxelSize: opts.size as number } })));
}
