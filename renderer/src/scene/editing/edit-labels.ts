// Readable names for edits, for the history list and the filter controls.

import type { Edit, QualityScoreName } from '../../../../main/common/edit-stack';
import type { Selection } from '../../../../main/common/selection';

export const SCORE_LABELS: Record<QualityScoreName, string> = {
  depthEdge: 'Depth edges',
  inconsistency: 'Multi-view inconsistency',
  outlier: 'Statistical outliers',
};

export const SCORE_HINTS: Record<QualityScoreName, string> = {
  depthEdge: 'Points on depth jumps in their frame (flying pixels at object borders).',
  inconsistency: 'Points that other cameras see somewhere else.',
  outlier: 'Points far from their nearest neighbours compared with the rest.',
};

/** A length in scene units, in metres (or cm/mm) when the scene has a scale. */
export function formatLength(units: number, metresPerUnit: number | null): string {
  if (!metresPerUnit) return `${formatNumber(units)} units`;
  const metres = units * metresPerUnit;
  if (metres >= 1) return `${formatNumber(metres)} m`;
  if (metres >= 0.01) return `${formatNumber(metres * 100)} cm`;
  return `${formatNumber(metres * 1000)} mm`;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(3)).toString();
}

function formatFrames(indices: number[]): string {
  if (indices.length === 0) return 'Show all frames';
  const listed = indices.slice(0, 6).join(', ');
  return `Hide frame${indices.length > 1 ? 's' : ''} ${listed}${indices.length > 6 ? ` (+${indices.length - 6})` : ''}`;
}

export function editLabel(edit: Edit, metresPerUnit: number | null): string {
  switch (edit.kind) {
    case 'filter': {
      const { score, cut } = edit.params;
      const how =
        cut.mode === 'percentile'
          ? `worst ${formatNumber(cut.removePercent)} % removed`
          : `score ≤ ${formatNumber(cut.value)}`;
      return `Filter: ${SCORE_LABELS[score].toLowerCase()}, ${how}`;
    }
    case 'crop':
      return 'Crop to box';
    case 'delete-selection':
      return `Delete ${selectionLabel(edit.params.selection)}`;
    case 'keep-selection':
      return `Keep only ${selectionLabel(edit.params.selection)}`;
    case 'hide-frames':
      return formatFrames(edit.params.frameIndices);
    case 'voxel':
      return `Voxel downsample, ${formatLength(edit.params.voxelSize, metresPerUnit)}`;
    case 'scale':
      return edit.params.metresPerUnit === null
        ? 'Clear the scale'
        : `Scale: 1 unit = ${formatNumber(edit.params.metresPerUnit)} m`;
    case 'ground':
      return edit.params.levelledFromScene === null ? 'Clear the levelling' : 'Level on the ground';
  }
}

function selectionLabel(selection: Selection): string {
  return selection.kind === 'regions'
    ? `${selection.regions.length} selected regions`
    : `${selection.kind} selection`;
}
