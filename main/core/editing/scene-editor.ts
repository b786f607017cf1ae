// The studio side of the edit stack: loads a scene's edit base (its cloud, and
// the map-based quality scores when it was reconstructed), replays the stored
// edits through apply-edits.ts, and keeps the last results so a push, an undo
// or a redo replays only what changed. The library holds the stack; nothing
// here changes a scene's stored points.

import { createHash } from 'node:crypto';
import type { SceneEditState, StoredEdit } from '../../common/domain';
import {
  editSchema,
  isSceneSettingEdit,
  pointEdits,
  QUALITY_SCORES,
  type Edit,
  type QualityScoreName,
  type SceneSettingEdit,
} from '../../common/edit-stack';
import { StudioError } from '../../common/errors';
import {
  applyEdits,
  EditCache,
  outlierScoresOfKept,
  type EditBase,
  type EditResult,
} from '../cleanup/apply-edits';
import { editBaseOf, sceneQualityFromMaps } from '../cleanup/scene-quality';
import type { SceneEdit } from '../library/annotation-store';
import type { Library } from '../library/library';

interface LoadedBase {
  key: string;
  base: Promise<EditBase>;
}

/** Scenes whose edit base stays in memory (a 10M-point base is ~170 MB with its scores). */
const BASES_KEPT = 2;

export class SceneEditor {
  private readonly bases = new Map<string, LoadedBase>();
  private readonly cache = new EditCache(24);

  constructor(private readonly library: Library) {}

  /** The stack and what it leaves. Throws StudioError('not-found') for a scene without points. */
  async state(sceneId: string): Promise<SceneEditState> {
    const { base, key } = await this.base(sceneId);
    const stored = this.library.annotations.edits(sceneId, { includeUndone: true });
    const active = parsedEdits(stored.filter((e) => !e.undone));
    const redo = parsedEdits(stored.filter((e) => e.undone));
    const result = await applyEdits(
      base,
      active.map((e) => e.edit),
      { cache: this.cache },
    );
    return {
      sceneId,
      edits: active,
      redo,
      cloud: result.cloud === base.cloud ? 'base' : 'voxel',
      pointCount: result.cloud.count,
      keptCount: result.keptCount,
      hiddenFrames: [...result.hiddenFrames],
      availableScores: QUALITY_SCORES.filter((name) => name === 'outlier' || !!base.scores?.[name]),
      // Only what the points see: a scale or a levelling leaves the mask (and its blob URL) as it was.
      revision: createHash('sha1')
        .update(key)
        .update(JSON.stringify(pointEdits(active.map((e) => e.edit))))
        .digest('hex')
        .slice(0, 16),
    };
  }

  /** The cloud and mask the active edits leave (what exports and blobs serve). */
  async result(sceneId: string, opts: { signal?: AbortSignal } = {}): Promise<EditResult> {
    const { base } = await this.base(sceneId);
    const edits = parsedEdits(this.library.annotations.edits(sceneId)).map((e) => e.edit);
    return applyEdits(base, edits, { cache: this.cache, signal: opts.signal });
  }

  /** Applies the edit first, so an edit that cannot apply is refused and never stored. */
  async push(sceneId: string, edit: Edit): Promise<SceneEditState> {
    if (isSceneSettingEdit(edit)) {
      // The state this returns needs the points: a scene without them is refused before anything is stored.
      await this.base(sceneId);
      this.pushSetting(sceneId, edit);
      return this.state(sceneId);
    }
    const { base } = await this.base(sceneId);
    const edits = parsedEdits(this.library.annotations.edits(sceneId)).map((e) => e.edit);
    await applyEdits(base, [...edits, edit], { cache: this.cache });
    this.library.annotations.pushEdit(sceneId, edit.kind, edit.params);
    return this.state(sceneId);
  }

  /**
   * A scale or a levelling onto the stack. It changes no point, so it needs no
   * point cloud (a scene may be scaled before it is reconstructed); the
   * scene's summary reads its value back from the stack.
   */
  pushSetting(sceneId: string, edit: SceneSettingEdit): void {
    if (!this.library.scenes.summary(sceneId)) throw noScene(sceneId);
    // Checked here too (not only at the API boundary): a value the summary could not read back would be lost.
    const checked = editSchema.safeParse(edit);
    if (!checked.success) {
      throw new StudioError(
        'invalid-input',
        `This ${edit.kind === 'scale' ? 'scale' : 'levelling'} cannot be stored: ${checked.error.issues[0]?.message ?? 'it is malformed'}.`,
        edit.kind === 'scale'
          ? 'Give a positive, finite scale.'
          : 'Pick three or more points spread over the floor.',
      );
    }
    this.library.annotations.pushEdit(sceneId, checked.data.kind, checked.data.params);
  }

  async undo(sceneId: string): Promise<SceneEditState> {
    await this.base(sceneId);
    this.library.annotations.undo(sceneId);
    return this.state(sceneId);
  }

  async redo(sceneId: string): Promise<SceneEditState> {
    await this.base(sceneId);
    this.library.annotations.redo(sceneId);
    return this.state(sceneId);
  }

  /** Per-point score over the edited cloud, for previewing a filter before it is pushed. */
  async scores(sceneId: string, score: QualityScoreName): Promise<Float32Array> {
    const { base } = await this.base(sceneId);
    const result = await this.result(sceneId);
    if (score === 'outlier') return outlierScoresOfKept(result.cloud, result.keep);
    const given = result.cloud === base.cloud ? base.scores?.[score] : undefined;
    if (!given) {
      throw new StudioError(
        'invalid-input',
        result.cloud === base.cloud
          ? 'This filter needs the scene’s reconstruction (per-frame point maps).'
          : 'This filter cannot follow a voxel downsample.',
        result.cloud === base.cloud
          ? 'Reconstruct the scene first, or use the statistical outlier filter.'
          : 'Undo the voxel downsample first.',
      );
    }
    return given;
  }

  /** Drop what is held for a scene (after it was reconstructed again or deleted). */
  forget(sceneId: string): void {
    this.bases.delete(sceneId);
  }

  private async base(sceneId: string): Promise<{ base: EditBase; key: string }> {
    const summary = this.library.scenes.summary(sceneId);
    if (!summary) throw noScene(sceneId);
    const recon = this.library.scenes.reconstructionInfo(sceneId);
    // A new reconstruction (or a replaced cloud) changes the key, so stale bases are never used.
    const key = `${sceneId}:${recon?.id ?? 'imported'}:${summary.pointCount}`;
    let loaded = this.bases.get(sceneId);
    if (!loaded || loaded.key !== key) {
      loaded = { key, base: this.loadBase(sceneId) };
      this.bases.set(sceneId, loaded);
      loaded.base.catch(() => this.bases.delete(sceneId));
    } else {
      this.bases.delete(sceneId); // most recently used last
      this.bases.set(sceneId, loaded);
    }
    while (this.bases.size > BASES_KEPT) this.bases.delete(this.bases.keys().next().value as string);
    return { base: await loaded.base, key };
  }

  private async loadBase(sceneId: string): Promise<EditBase> {
    const points = this.library.scenes.points(sceneId);
    if (!points || points.count === 0) {
      throw new StudioError(
        'not-found',
        'The scene has no point cloud to edit yet.',
        'Reconstruct the scene first.',
      );
    }
    const cloud = { positions: points.positions, colors: points.colors, count: points.count };
    const rec = this.library.scenes.reconstruction(sceneId);
    const scene = this.library.scenes.get(sceneId);
    if (!rec || !scene || scene.cameras.length !== rec.frameCount) return editBaseOf(cloud, null);
    const quality = await sceneQualityFromMaps(
      {
        frameCount: rec.frameCount,
        width: rec.info.mapWidth,
        height: rec.info.mapHeight,
        localPointMaps: rec.localPointMaps,
        worldFromCamera: rec.worldFromCamera,
        // Intrinsics are fitted in map pixels (reconstruction-record.ts).
        intrinsics: scene.cameras.map((camera) => camera.intrinsics),
      },
      scene.cameras.map((camera) => camera.frameIndex),
      cloud.count,
    ).catch((error: unknown) => {
      // A cloud that no longer matches its maps can still be edited, without map-based filters.
      if (error instanceof StudioError && error.code === 'invalid-input') return null;
      throw error;
    });
    return editBaseOf(cloud, quality);
  }
}

const noScene = (sceneId: string) =>
  new StudioError('not-found', `There is no scene ${sceneId}.`, 'List scenes to see their ids.');

function parsedEdits(stored: SceneEdit[]): StoredEdit[] {
  const out: StoredEdit[] = [];
  for (const row of stored) {
    const parsed = editSchema.safeParse({ kind: row.kind, params: row.params });
    // An edit this build cannot read is left in the library untouched, not replayed.
    if (parsed.success) out.push({ id: row.id, seq: row.seq, edit: parsed.data, createdAt: row.createdAt });
  }
  return out;
}
