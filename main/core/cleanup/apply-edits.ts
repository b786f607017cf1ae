// Replays an edit stack over a scene's base point cloud. The result is the
// cloud the edits leave (the base itself unless a voxel downsample replaced it)
// and a keep mask over it; the renderer hides masked points, exports compact
// them (compactPointCloud). Edits narrow the mask in order; a voxel edit
// replaces the cloud by the downsampled kept points (all kept afterwards).
// Frame visibility is the exception: a hide-frames edit states which frames
// are hidden from then on (not a further narrowing), so showing a frame again
// is an edit too, and undo restores the previous set. Hidden points are out of
// the effective mask, so filters, selections and exports do not see them.
// Scene settings on the stack (scale, ground) change no point and are skipped.
//
// Quality scores that need the per-frame point maps (depth edges,
// multi-view inconsistency) are computed once per reconstruction and passed in
// `base.scores`; the statistical outlier score is computed here over the points
// still kept, since deleted points must not count as anyone's neighbours.

import { StudioError } from '../../common/errors';
import type { PointCloud } from '../pointcloud/point-cloud';
import type { CleanupTaskOptions } from './cleanup-task';
import { pointEdits, type Edit, type PointEdit, type QualityScoreName } from '../../common/edit-stack';
import { keepMaskFromScores } from '../../common/score-mask';
import { selectInBox, selectPoints } from '../../common/selection';
import { statisticalOutlierScores, type OutlierOptions } from './statistical-outliers';
import { compactPointCloud, voxelDownsample } from './voxel-downsample';

export interface EditBase {
  cloud: PointCloud;
  /** The frame (CameraInfo.frameIndex) each point came from; null for imported clouds. */
  pointFrames: Uint16Array | Uint32Array | null;
  /** Per-point scores computed from the reconstruction (higher is worse). */
  scores?: Partial<Record<Exclude<QualityScoreName, 'outlier'>, Float32Array>>;
}

export interface EditResult {
  cloud: PointCloud;
  /** 1 = kept, one entry per point of `cloud`. */
  keep: Uint8Array;
  keptCount: number;
  /** Frame of each point of `cloud`, null once a voxel edit merged frames. */
  pointFrames: Uint16Array | Uint32Array | null;
  /** Frames (CameraInfo.frameIndex) hidden by the latest hide-frames edit. */
  hiddenFrames: readonly number[];
  /** The mask before frame hiding: what showing every frame again would give. */
  editKeep: Uint8Array;
}

/**
 * Statistical outlier scores of the kept points among themselves (deleted
 * points are nobody's neighbours), per point of `cloud`; +Infinity where not kept.
 */
export async function outlierScoresOfKept(
  cloud: PointCloud,
  keep: Uint8Array,
  opts: OutlierOptions = {},
): Promise<Float32Array> {
  const kept = compactPointCloud(cloud, keep);
  const keptScores = await statisticalOutlierScores(kept.positions, kept.count, opts);
  const scores = new Float32Array(cloud.count).fill(Infinity);
  for (let i = 0, j = 0; i < cloud.count; i++) if (keep[i]) scores[i] = keptScores[j++];
  return scores;
}

/** Memo of intermediate states keyed by edit prefix, so undo/redo and appending an edit are cheap. */
export class EditCache {
  private readonly states = new Map<string, { base: EditBase; state: EditResult }>();
  constructor(private readonly capacity = 24) {}
  get(base: EditBase, key: string): EditResult | undefined {
    const hit = this.states.get(key);
    if (!hit || hit.base !== base) return undefined;
    this.states.delete(key);
    this.states.set(key, hit); // most recently used last
    return hit.state;
  }
  set(base: EditBase, key: string, state: EditResult): void {
    this.states.set(key, { base, state });
    while (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value as string);
  }
}

function countKept(keep: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < keep.length; i++) n += keep[i];
  return n;
}

async function applyOne(
  base: EditBase,
  state: EditResult,
  edit: PointEdit,
  opts: CleanupTaskOptions,
): Promise<EditResult> {
  const next = await applyToMask(base, state, edit, opts);
  if (next.cloud !== state.cloud) return next;
  return withHiddenFrames(next, next.hiddenFrames);
}

/** Recomputes the effective mask: the edit mask minus the points of hidden frames. */
function withHiddenFrames(state: EditResult, hiddenFrames: readonly number[]): EditResult {
  const keep = state.editKeep.slice();
  if (hiddenFrames.length > 0 && state.pointFrames) {
    const hidden = new Set(hiddenFrames);
    const frames = state.pointFrames;
    for (let i = 0; i < keep.length; i++) if (hidden.has(frames[i])) keep[i] = 0;
  }
  return { ...state, keep, keptCount: countKept(keep), hiddenFrames };
}

/** One edit over the edit mask (`editKeep`); filters and selections see only visible points. */
async function applyToMask(
  base: EditBase,
  state: EditResult,
  edit: PointEdit,
  opts: CleanupTaskOptions,
): Promise<EditResult> {
  const { cloud } = state;
  const keep = state.editKeep.slice();
  switch (edit.kind) {
    case 'filter': {
      const { score, cut } = edit.params;
      let scores: Float32Array;
      if (score === 'outlier') {
        scores = await outlierScoresOfKept(cloud, state.keep, {
          ...opts,
          neighbours: edit.params.neighbours,
        });
      } else {
        const given = cloud === base.cloud ? base.scores?.[score] : undefined;
        if (!given || given.length !== cloud.count) {
          throw new StudioError(
            'invalid-input',
            cloud === base.cloud
              ? `The ${score === 'depthEdge' ? 'depth-edge' : 'multi-view consistency'} filter needs the scene's reconstruction (per-frame point maps).`
              : 'This filter cannot follow a voxel downsample: the downsampled points no longer belong to one frame.',
            cloud === base.cloud
              ? 'Reconstruct the scene first, or use the statistical outlier filter.'
              : 'Move the filter before the voxel downsample.',
          );
        }
        scores = given;
      }
      // The cut is taken over the visible points; hidden ones keep their state.
      const filtered = keepMaskFromScores(scores, cut, state.keep);
      for (let i = 0; i < keep.length; i++) if (!state.keep[i] && keep[i]) filtered[i] = 1;
      return { ...state, editKeep: filtered };
    }
    case 'crop': {
      const inside = selectInBox(cloud.positions, cloud.count, edit.params.box);
      for (let i = 0; i < keep.length; i++) keep[i] &= inside[i];
      return { ...state, editKeep: keep };
    }
    case 'delete-selection':
    case 'keep-selection': {
      const selected = selectPoints(cloud.positions, cloud.count, edit.params.selection);
      // Delete touches only what the user sees; keep drops everything else, hidden or not.
      if (edit.kind === 'keep-selection') {
        for (let i = 0; i < keep.length; i++) if (!selected[i] || !state.keep[i]) keep[i] = 0;
      } else {
        for (let i = 0; i < keep.length; i++) if (selected[i] && state.keep[i]) keep[i] = 0;
      }
      return { ...state, editKeep: keep };
    }
    case 'hide-frames': {
      if (!state.pointFrames) {
        throw new StudioError(
          'invalid-input',
          cloud === base.cloud
            ? 'This point cloud has no frames to hide (it was imported, not reconstructed).'
            : 'Frames cannot be hidden after a voxel downsample: its points mix frames.',
          cloud === base.cloud
            ? 'Use a crop or a selection instead.'
            : 'Hide frames before the voxel downsample.',
        );
      }
      return { ...state, hiddenFrames: [...new Set(edit.params.frameIndices)].sort((a, b) => a - b) };
    }
    case 'voxel': {
      const down = voxelDownsample(cloud, edit.params.voxelSize, state.keep);
      const all = new Uint8Array(down.count).fill(1);
      // Hidden frames are merged away: what was hidden is not in the new cloud.
      return {
        cloud: down,
        keep: all,
        editKeep: all,
        keptCount: down.count,
        pointFrames: null,
        hiddenFrames: [],
      };
    }
  }
}

/** The cloud and keep mask `edits` leave over `base`. Throws StudioError('invalid-input' | 'cancelled'). */
export async function applyEdits(
  base: EditBase,
  stack: readonly Edit[],
  opts: CleanupTaskOptions & { cache?: EditCache } = {},
): Promise<EditResult> {
  const { cache } = opts;
  // Scale and levelling keep every point: skipped, so they leave the cached prefixes valid too.
  const edits = pointEdits(stack);
  const all = new Uint8Array(base.cloud.count).fill(1);
  let state: EditResult = {
    cloud: base.cloud,
    keep: all,
    editKeep: all,
    keptCount: base.cloud.count,
    pointFrames: base.pointFrames,
    hiddenFrames: [],
  };
  let start = 0;
  // Longest cached prefix first.
  if (cache) {
    for (let n = edits.length; n > 0; n--) {
      const hit = cache.get(base, JSON.stringify(edits.slice(0, n)));
      if (hit) {
        state = hit;
        start = n;
        break;
      }
    }
  }
  for (let n = start; n < edits.length; n++) {
    state = await applyOne(base, state, edits[n], {
      signal: opts.signal,
      onProgress: opts.onProgress
        ? (p, stage) => opts.onProgress!((n - start + p) / (edits.length - start), stage)
        : undefined,
    });
    cache?.set(base, JSON.stringify(edits.slice(0, n + 1)), state);
  }
  opts.onProgress?.(1, 'edits');
  return state;
}

/** The edited cloud with removed points dropped: what exports write. */
export function editedPointCloud(result: EditResult): PointCloud {
  return compactPointCloud(result.cloud, result.keep);
}
