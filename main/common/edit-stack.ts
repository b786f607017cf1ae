// The non-destructive edit stack of a scene: an ordered list of edits replayed
// over the reconstruction's point cloud (apply-edits.ts), with undo/redo as a
// pure reducer so the renderer, the studio core and the library all agree on
// what the stack is. Edits are plain JSON (stored as-is in the library) and
// validated with `editSchema` wherever they enter. The scene's scale and
// levelling are edits of the stack too, so one undo history covers them.

import { z } from 'zod';

const vec3 = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);
const matrix4 = z.array(z.number().finite()).length(16);

/** How far a levelling may be from an exact rotation + translation (it is computed in float64). */
const RIGID_TOLERANCE = 1e-6;

/** A row-major 4x4 rotation + translation: orthonormal rows, determinant +1, last row 0 0 0 1. */
export const rigidTransformSchema = matrix4.refine((m) => {
  const row = (r: number) => [m[4 * r], m[4 * r + 1], m[4 * r + 2]];
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const [r0, r1, r2] = [row(0), row(1), row(2)];
  const orthonormal = [r0, r1, r2].every((a, i) =>
    [r0, r1, r2].every((b, j) => Math.abs(dot(a, b) - (i === j ? 1 : 0)) <= RIGID_TOLERANCE),
  );
  const cross = [r0[1] * r1[2] - r0[2] * r1[1], r0[2] * r1[0] - r0[0] * r1[2], r0[0] * r1[1] - r0[1] * r1[0]];
  const lastRow = m[12] === 0 && m[13] === 0 && m[14] === 0 && m[15] === 1;
  return orthonormal && dot(cross, r2) > 0 && lastRow;
}, 'a levelling must be a rotation and a translation (row-major 4x4, last row 0 0 0 1)');

export const selectionBoxSchema = z
  .object({ min: vec3, max: vec3, boxFromWorld: matrix4.optional() })
  .strict()
  .refine((box) => box.min.every((v, a) => v <= box.max[a]), 'box min must not exceed max');

const boxRegionSchema = z.object({ kind: z.literal('box'), box: selectionBoxSchema }).strict();
const lassoRegionSchema = z
  .object({
    kind: z.literal('lasso'),
    lasso: z
      .object({
        polygon: z
          .array(z.tuple([z.number().finite(), z.number().finite()]))
          .min(3)
          .max(10_000),
        viewProjection: matrix4,
      })
      .strict(),
  })
  .strict();

/** One region, or several taken together (shift-added in the viewer): one edit, one undo step. */
export const selectionSchema = z.discriminatedUnion('kind', [
  boxRegionSchema,
  lassoRegionSchema,
  z
    .object({
      kind: z.literal('regions'),
      regions: z
        .array(z.discriminatedUnion('kind', [boxRegionSchema, lassoRegionSchema]))
        .min(1)
        .max(64),
    })
    .strict(),
]);

export const QUALITY_SCORES = ['depthEdge', 'inconsistency', 'outlier'] as const;
export type QualityScoreName = (typeof QUALITY_SCORES)[number];

const scoreCutSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('threshold'), value: z.number() }).strict(),
  z.object({ mode: z.literal('percentile'), removePercent: z.number().min(0).max(100) }).strict(),
]);

export const editSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('filter'),
      params: z
        .object({
          score: z.enum(QUALITY_SCORES),
          cut: scoreCutSchema,
          /** k of the statistical outlier score (default 8). */
          neighbours: z.number().int().min(1).max(64).optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ kind: z.literal('crop'), params: z.object({ box: selectionBoxSchema }).strict() }).strict(),
  z
    .object({
      kind: z.literal('delete-selection'),
      params: z.object({ selection: selectionSchema }).strict(),
    })
    .strict(),
  z
    .object({ kind: z.literal('keep-selection'), params: z.object({ selection: selectionSchema }).strict() })
    .strict(),
  z
    .object({
      kind: z.literal('hide-frames'),
      /** The frames hidden from this edit on (the whole set, so showing a frame is an edit too). */
      params: z.object({ frameIndices: z.array(z.number().int().min(0)).max(100_000) }).strict(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('voxel'),
      params: z.object({ voxelSize: z.number().finite().positive() }).strict(),
    })
    .strict(),
  // Scene settings: they keep every point and change how the scene is read.
  // The newest active one of each kind is the scene's value (sceneSettingsOf),
  // so undo gives back the previous scale or levelling, or none.
  z
    .object({
      kind: z.literal('scale'),
      /** Metres per model unit, or null: the scale is removed from here on. */
      params: z.object({ metresPerUnit: z.number().finite().positive().nullable() }).strict(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ground'),
      /** Row-major rigid levelledFromScene (SceneSummary.groundAlignment), or null: not levelled from here on. */
      params: z.object({ levelledFromScene: rigidTransformSchema.nullable() }).strict(),
    })
    .strict(),
]);

export type Edit = z.infer<typeof editSchema>;
export type EditKind = Edit['kind'];

/** Edits that change how the whole scene is read (its scale, its levelling), not which points it keeps. */
export type SceneSettingEdit = Extract<Edit, { kind: 'scale' | 'ground' }>;
/** Edits replayed over the points (apply-edits.ts). */
export type PointEdit = Exclude<Edit, SceneSettingEdit>;

export const isSceneSettingEdit = (edit: Edit): edit is SceneSettingEdit =>
  edit.kind === 'scale' || edit.kind === 'ground';

export const pointEdits = (edits: readonly Edit[]): PointEdit[] =>
  edits.filter((edit): edit is PointEdit => !isSceneSettingEdit(edit));

export interface SceneSettings {
  metresPerUnit: number | null;
  /** Row-major levelledFromScene, or null when the scene is not levelled. */
  groundAlignment: number[] | null;
}

/** The scale and levelling that the active edits (oldest first) leave: the newest of each kind wins. */
export function sceneSettingsOf(edits: readonly Edit[]): SceneSettings {
  const settings: SceneSettings = { metresPerUnit: null, groundAlignment: null };
  for (const edit of edits) {
    if (edit.kind === 'scale') settings.metresPerUnit = edit.params.metresPerUnit;
    if (edit.kind === 'ground') settings.groundAlignment = edit.params.levelledFromScene;
  }
  return settings;
}

/** Applied edits in order, and the edits undone since the last push (most recent last). */
export interface EditHistory {
  edits: Edit[];
  redo: Edit[];
}

export type EditAction =
  { type: 'push'; edit: Edit } | { type: 'undo' } | { type: 'redo' } | { type: 'clear' };

export const emptyEditHistory: EditHistory = Object.freeze({ edits: [], redo: [] }) as EditHistory;

/**
 * Pure reducer: push appends and drops the redo list; undo moves the last edit
 * to redo; redo moves it back; clear empties both. Nothing to undo/redo
 * returns the same state object (so callers can tell nothing changed).
 */
export function editHistoryReducer(state: EditHistory, action: EditAction): EditHistory {
  switch (action.type) {
    case 'push':
      return { edits: [...state.edits, action.edit], redo: [] };
    case 'undo': {
      if (state.edits.length === 0) return state;
      const last = state.edits[state.edits.length - 1];
      return { edits: state.edits.slice(0, -1), redo: [...state.redo, last] };
    }
    case 'redo': {
      if (state.redo.length === 0) return state;
      const next = state.redo[state.redo.length - 1];
      return { edits: [...state.edits, next], redo: state.redo.slice(0, -1) };
    }
    case 'clear':
      return state.edits.length === 0 && state.redo.length === 0 ? state : { edits: [], redo: [] };
  }
}

export const canUndo = (state: EditHistory): boolean => state.edits.length > 0;
export const canRedo = (state: EditHistory): boolean => state.redo.length > 0;
