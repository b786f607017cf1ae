// Rectangle and lasso selection: one tool serving both modes (Shift-added
// parts survive a switch between them). A drag draws the outline; its lasso
// in the view's projection lights up what a Delete or Keep edit would take.

import { useMemo, useState } from 'react';
import type { Selection, SelectionLasso } from '../../../../../main/common/selection';
import { lassoViewProjection } from '../../points/point-picking';
import { countSet, viewOf, type ToolContext } from '../tool-context';
import type { ViewerTool } from '../tool-manager';
import { isDrawingTool } from '../tool-modes';
import type { CanvasPointer } from '../use-canvas-pointer';
import { SelectionPanel } from './SelectionPanel';
import {
  isDegenerate,
  lassoFromShape,
  selectionMask,
  shapeOutline,
  type DrawnShape,
} from './selection-shapes';

/** The shape after the pointer moved: a rectangle's far corner, or one more lasso point (not closer than 3 px). */
function extendShape(shape: DrawnShape, pointer: CanvasPointer): DrawnShape {
  if (shape.kind === 'rect') return { ...shape, points: [shape.points[0], [pointer.x, pointer.y]] };
  const [lx, ly] = shape.points[shape.points.length - 1];
  if (Math.hypot(pointer.x - lx, pointer.y - ly) < 3) return shape;
  return { ...shape, points: [...shape.points, [pointer.x, pointer.y]] };
}

export interface SelectionTool extends ViewerTool {
  /** Non-zero = selected, per point of the drawn cloud; null without a selection. */
  highlight: Uint8Array | null;
}

export function useSelectionTool(context: ToolContext, lasso: boolean): SelectionTool {
  const { cloud, canvas, edits, editsKeep } = context;
  const [parts, setParts] = useState<SelectionLasso[]>([]);
  const [drawing, setDrawing] = useState<{ shape: DrawnShape; additive: boolean } | null>(null);

  const highlight = useMemo(
    () => (cloud ? selectionMask(cloud.sourcePositions, cloud.pointCount, parts) : null),
    [cloud, parts],
  );
  const selectedCount = useMemo(() => countSet(highlight, editsKeep), [highlight, editsKeep]);

  const finishShape = (shape: DrawnShape, additive: boolean) => {
    if (!canvas || !cloud) return;
    if (isDegenerate(shape)) {
      if (!additive) setParts([]);
      return;
    }
    const { camera, size } = viewOf(canvas);
    const part = lassoFromShape(shape, size, lassoViewProjection(cloud, camera));
    setParts((current) => (additive ? [...current, part] : [part]));
  };

  // Shift-added regions go to the core as one union: one edit, one undo step.
  const selectionOfParts = (): Selection =>
    parts.length === 1
      ? { kind: 'lasso', lasso: parts[0] }
      : { kind: 'regions', regions: parts.map((part) => ({ kind: 'lasso' as const, lasso: part })) };

  const push = async (kind: 'delete-selection' | 'keep-selection') => {
    if (parts.length === 0) return;
    if (await edits.push({ kind, params: { selection: selectionOfParts() } })) setParts([]);
  };

  const outline = drawing ? shapeOutline(drawing.shape) : null;
  return {
    highlight,
    deactivate: (next) => {
      setDrawing(null);
      if (!isDrawingTool(next)) setParts([]);
    },
    onPress: (pointer) => {
      if (!cloud) return false;
      setDrawing({
        shape: { kind: lasso ? 'lasso' : 'rect', points: [[pointer.x, pointer.y]] },
        additive: pointer.shiftKey,
      });
      return true;
    },
    onDrag: (pointer) =>
      setDrawing((current) =>
        current ? { ...current, shape: extendShape(current.shape, pointer) } : current,
      ),
    onRelease: (pointer) => {
      if (!drawing) return;
      finishShape(extendShape(drawing.shape, pointer), drawing.additive);
      setDrawing(null);
    },
    onCancel: () => setDrawing(null),
    onKey: (event) => {
      if (event.key === 'Escape' && drawing) {
        setDrawing(null);
        return true;
      }
      if ((event.key === 'Delete' || event.key === 'Backspace') && parts.length > 0) {
        event.preventDefault();
        void push('delete-selection');
        return true;
      }
      return false;
    },
    cursor: 'crosshair',
    overlay: outline && (
      <svg className="tool-drawing" data-testid="selection-outline">
        <polygon points={outline.map(([x, y]) => `${x},${y}`).join(' ')} />
      </svg>
    ),
    panel: (
      <SelectionPanel
        lasso={lasso}
        parts={parts.length}
        selectedCount={selectedCount}
        busy={edits.busy}
        onDelete={() => void push('delete-selection')}
        onKeep={() => void push('keep-selection')}
        onClear={() => setParts([])}
      />
    ),
  };
}
