// Rectangles and freehand lassos drawn over the view, as the core's lasso
// selections: the outline in NDC plus the view-projection of the moment it
// was drawn. A rectangle is a four-corner lasso, so it keeps meaning the same
// screen region however the view moves afterwards. Highlights come from the
// core's own selectInLasso, so what lights up is what an edit will remove.

import { selectInLasso, type SelectionLasso } from '../../../../../main/common/selection';
import { ndcFromCss, type ViewSize } from '../screen-math';

export type ShapeKind = 'rect' | 'lasso';

/** A shape being drawn, in CSS pixels on the canvas. */
export interface DrawnShape {
  kind: ShapeKind;
  points: Array<[number, number]>;
}

/** The outline to draw and to select with: a rectangle's four corners, or the lasso's points. */
export function shapeOutline(shape: DrawnShape): Array<[number, number]> {
  if (shape.kind === 'lasso') return shape.points;
  const [x0, y0] = shape.points[0];
  const [x1, y1] = shape.points[shape.points.length - 1];
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

/** Too small to mean a region (a click, a jitter): a shape whose outline spans under 3 px. */
export function isDegenerate(shape: DrawnShape): boolean {
  const outline = shapeOutline(shape);
  if (outline.length < 3) return true;
  const xs = outline.map(([x]) => x);
  const ys = outline.map(([, y]) => y);
  return Math.max(...xs) - Math.min(...xs) < 3 || Math.max(...ys) - Math.min(...ys) < 3;
}

export function lassoFromShape(shape: DrawnShape, size: ViewSize, viewProjection: number[]): SelectionLasso {
  return {
    polygon: shapeOutline(shape).map(([x, y]) => {
      const ndc = ndcFromCss(x, y, size);
      return [ndc.x, ndc.y];
    }),
    viewProjection,
  };
}

/** 1 for points in any of the parts (their union), or null when there are none. */
export function selectionMask(
  positions: Float32Array,
  count: number,
  parts: readonly SelectionLasso[],
): Uint8Array | null {
  if (parts.length === 0) return null;
  const union = selectInLasso(positions, count, parts[0]);
  for (const part of parts.slice(1)) {
    const more = selectInLasso(positions, count, part);
    for (let i = 0; i < count; i++) union[i] |= more[i];
  }
  return union;
}
