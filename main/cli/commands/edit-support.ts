// What the edit, scale, measure and level commands share: parsing points and
// sizes from the command line, and printing an edit stack the way the history
// panel shows it.

import { InvalidArgumentError } from 'commander';
import type { SceneEditState } from '../../common/domain';
import type { Edit, QualityScoreName } from '../../common/edit-stack';
import { type Vec3 } from '../../core/geometry/measure';
import { StudioError } from '../../common/errors';
import { printJson, printLine, type CliIo } from '../output';

/** "x,y,z" in scene units. */
export function parseVec3(value: string): Vec3 {
  const parts = value.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 3 || !parts.every(Number.isFinite)) {
    throw new InvalidArgumentError(`a point is three numbers "x,y,z" (got "${value}").`);
  }
  return parts as Vec3;
}

/** A usage mistake found after parsing (combinations of options). */
export const usage = (message: string): StudioError =>
  new StudioError('invalid-input', message, 'See `g2studio <command> --help`.');

export const collectVec3 = (value: string, previous: Vec3[] = []): Vec3[] => [...previous, parseVec3(value)];

export function parsePositive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return n;
  };
}

export const SCORE_NAMES: Record<string, QualityScoreName> = {
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
    case 'scale':
      return edit.params.metresPerUnit === null
        ? 'clear the scale'
        : `scale: 1 unit = ${edit.params.metresPerUnit.toPrecision(6)} m`;
    case 'ground':
      return edit.params.levelledFromScene === null ? 'clear the levelling' : 'level on a ground plane';
  }
}

export function printEditState(io: CliIo, json: boolean, state: SceneEditState): void {
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
