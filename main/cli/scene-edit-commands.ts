// `g2studio edit|scale|measure|level`: the studio's clean/measure/scale tools
// for scripts. Each goes through the same API operations as the viewer, so an
// edit made here shows in the UI and the other way round.

import { Command, InvalidArgumentError, Option } from 'commander';
import type { SceneEditState, SceneSummary } from '../common/domain';
import type { Edit, QualityScoreName } from '../common/edit-stack';
import { measuredDistance, type Vec3 } from '../core/geometry/measure';
import { StudioError } from '../common/errors';
import type { Studio } from '../core/studio';
import { findScene } from './cli-support';
import { printJson, printLine, type CliIo } from './output';

type WithStudio = <A extends unknown[]>(
  fn: (studio: Studio, json: boolean, ...args: A) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

/** "x,y,z" in scene units. */
export function parseVec3(value: string): Vec3 {
  const parts = value.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 3 || !parts.every(Number.isFinite)) {
    throw new InvalidArgumentError(`a point is three numbers "x,y,z" (got "${value}").`);
  }
  return parts as Vec3;
}

/** A usage mistake found after parsing (combinations of options). */
const usage = (message: string): StudioError =>
  new StudioError('invalid-input', message, 'See `g2studio <command> --help`.');

const collectVec3 = (value: string, previous: Vec3[] = []): Vec3[] => [...previous, parseVec3(value)];

function parsePositive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return n;
  };
}

const SCORE_NAMES: Record<string, QualityScoreName> = {
  'depth-edge': 'depthEdge',
  inconsistency: 'inconsistency',
  outlier: 'outlier',
};

/** One readable line per edit, as the history panel shows them. */
export function describeEdit(edit: Edit): string {
  const box = (b: { min: number[]; max: number[] }): string =>
    `[${b.min.map((v) => v.toPrecision(4)).join(', ')}] .. [${b.max.map((v) => v.toPrecision(4)).join(', ')}]`;
  switch (edit.kind) {
    case 'filter': {
      const { score, cut } = edit.params;
      const name = Object.keys(SCORE_NAMES).find((key) => SCORE_NAMES[key] === score) ?? score;
      return cut.mode === 'percentile'
        ? `filter ${name}: remove worst ${cut.removePercent}%`
        : `filter ${name}: keep score <= ${cut.value}`;
    }
    case 'crop':
      return `crop to ${box(edit.params.box)}`;
    case 'delete-selection':
    case 'keep-selection': {
      const verb = edit.kind === 'delete-selection' ? 'delete' : 'keep';
      const { selection } = edit.params;
      if (selection.kind === 'box') return `${verb} box ${box(selection.box)}`;
      if (selection.kind === 'lasso') return `${verb} lasso (${selection.lasso.polygon.length} corners)`;
      return `${verb} ${selection.regions.length} regions`;
    }
    case 'hide-frames':
      return edit.params.frameIndices.length
        ? `hide frames ${edit.params.frameIndices.join(', ')}`
        : 'show every frame';
    case 'voxel':
      return `voxel downsample, ${edit.params.voxelSize} units`;
  }
}

function printEditState(io: CliIo, json: boolean, state: SceneEditState): void {
  if (json) return printJson(io, state);
  if (state.edits.length === 0) printLine(io, 'No edits.');
  for (const stored of state.edits)
    printLine(io, `${String(stored.seq).padStart(3)}  ${describeEdit(stored.edit)}`);
  if (state.redo.length)
    printLine(io, `(${state.redo.length} undone edit${state.redo.length === 1 ? '' : 's'} to redo)`);
  printLine(
    io,
    `${state.keptCount.toLocaleString('en-US')} of ${state.pointCount.toLocaleString('en-US')} points kept${state.cloud === 'voxel' ? ' (voxel downsampled)' : ''}.`,
  );
}

export function registerSceneEditCommands(program: Command, io: CliIo, withStudio: WithStudio): void {
  const edit = program
    .command('edit')
    .description(
      "a scene's non-destructive edit stack: list, undo, redo, filter, crop, delete, hide frames, voxel",
    );

  /** An edit command: find the scene, run one edits.* call, print the stack it leaves. */
  const onStack = <A extends unknown[]>(
    call: (studio: Studio, sceneId: string, ...args: A) => Promise<unknown>,
  ) =>
    withStudio(async (studio, json, sceneRef: string, ...args: A) => {
      const scene = await findScene(studio, sceneRef);
      printEditState(io, json, (await call(studio, scene.id, ...args)) as SceneEditState);
    });
  const pushing = (build: (opts: Record<string, unknown>) => Edit) =>
    onStack((studio, sceneId, opts: Record<string, unknown>) =>
      studio.call('edits.push', { sceneId, edit: build(opts) }),
    );

  edit
    .command('list')
    .description('the edits in order and how many points they keep')
    .argument('<scene>', 'scene id or name')
    .action(onStack((studio, sceneId) => studio.call('edits.get', { sceneId })));

  for (const action of ['undo', 'redo'] as const) {
    edit
      .command(action)
      .description(action === 'undo' ? 'undo the last edit' : 'redo the last undone edit')
      .argument('<scene>', 'scene id or name')
      .action(onStack((studio, sceneId) => studio.call(`edits.${action}`, { sceneId })));
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
        return studio.call('edits.push', {
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

  program
    .command('scale')
    .description('give a scene metric scale from a known distance (or a value), or remove it')
    .argument('<scene>', 'scene id or name')
    .option('--from <x,y,z>', 'first point of the known distance', parseVec3)
    .option('--to <x,y,z>', 'second point', parseVec3)
    .option('--metres <m>', 'the real distance between them', parsePositive('--metres'))
    .option('--metres-per-unit <value>', 'set the scale directly', parsePositive('--metres-per-unit'))
    .option('--clear', 'remove the scale (back to model units)')
    .action(
      withStudio(
        async (
          studio,
          json,
          sceneRef: string,
          opts: { from?: Vec3; to?: Vec3; metres?: number; metresPerUnit?: number; clear?: boolean },
        ) => {
          const known = opts.from && opts.to && opts.metres !== undefined;
          const chosen = [known, opts.metresPerUnit !== undefined, opts.clear === true].filter(
            Boolean,
          ).length;
          if (chosen !== 1) {
            throw usage('Give --from, --to and --metres, or --metres-per-unit, or --clear (one of them).');
          }
          const scene = await findScene(studio, sceneRef);
          const updated = (await studio.call('scenes.setScale', {
            sceneId: scene.id,
            scale: known
              ? {
                  kind: 'known-distance',
                  a: opts.from as Vec3,
                  b: opts.to as Vec3,
                  metres: opts.metres as number,
                }
              : opts.clear
                ? { kind: 'none' }
                : { kind: 'metres-per-unit', value: opts.metresPerUnit as number },
          })) as SceneSummary;
          if (json) return printJson(io, updated);
          printLine(
            io,
            updated.metresPerUnit
              ? `"${updated.name}": 1 unit = ${updated.metresPerUnit.toPrecision(6)} m.`
              : `"${updated.name}" is in model units (no scale).`,
          );
        },
      ),
    );

  program
    .command('measure')
    .description('distance between two points: metres once the scene has a scale, else model units')
    .argument('<scene>', 'scene id or name')
    .requiredOption('--from <x,y,z>', 'first point (scene units)', parseVec3)
    .requiredOption('--to <x,y,z>', 'second point', parseVec3)
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { from: Vec3; to: Vec3 }) => {
        const scene = await findScene(studio, sceneRef);
        const measured = measuredDistance(opts.from, opts.to, scene.metresPerUnit);
        if (json) return printJson(io, measured);
        printLine(io, `${measured.value.toPrecision(6)} ${measured.unit}`);
      }),
    );

  program
    .command('level')
    .description('stand a scene upright on a floor plane through 3+ points on the floor, or --clear')
    .argument('<scene>', 'scene id or name')
    .option('--point <x,y,z>', 'a point on the floor (repeat, at least 3)', collectVec3)
    .option('--clear', 'remove the levelling')
    .action(
      withStudio(async (studio, json, sceneRef: string, opts: { point?: Vec3[]; clear?: boolean }) => {
        if (!opts.clear === !opts.point) throw usage('Give --point (3 or more times) or --clear.');
        const scene = await findScene(studio, sceneRef);
        const updated = (await studio.call('scenes.setGround', {
          sceneId: scene.id,
          ground: opts.clear ? { kind: 'none' } : { kind: 'points', points: opts.point ?? [] },
        })) as SceneSummary;
        if (json) return printJson(io, updated);
        printLine(
          io,
          updated.groundAlignment ? `"${updated.name}" is levelled.` : `"${updated.name}" is not levelled.`,
        );
      }),
    );
}
