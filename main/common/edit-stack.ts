// The non-destructive edit stack of a scene: an ordered list of edits replayed
// over the reconstruction's point cloud (apply-edits.ts), with undo/redo as a
// pure reducer so the renderer, the studio core and the library all agree on
// what the stack is. Edits are plain JSON (stored as-is in the library) and
// validated with `editSchema` wherever they enter.

import { z } from 'zod';

const vec3 = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);
const matrix4 = z.array(z.number().finite()).length(16);

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
]);

export type Edit = z.infer<typeof editSchema>;
export type EditKind = Edit['kind'];

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
