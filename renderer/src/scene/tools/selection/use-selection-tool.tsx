// Rectangle and lasso selection: drag an outline (Shift adds a region), the
// points inside light up, then Delete or Keep pushes one selection edit (all
// Shift-added regions are one edit, one undo step). Both modes are this one
// tool, so switching between rectangle and lasso keeps the regions.

import { useMemo, useState } from 'react';
import type { Selection, SelectionLasso } from '../../../../../main/common/selection';
import { lassoViewProjection } from '../../points/point-picking';
import type { CanvasPointer } from '../use-canvas-pointer';
import { countSet, type ToolEnv, type ViewerTool } from '../viewer-tool';
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

export function useSelectionTool(env: ToolEnv, lasso: boolean): ViewerTool {
  const { cloud, editsKeep, edits } = env;
  const [parts, setParts] = useState<SelectionLasso[]>([]);
  const [drawing, setDrawing] = useState<{ shape: DrawnShape; additive: boolean } | null>(null);

  const highlight = useMemo(
    () => (cloud ? selectionMask(cloud.sourcePositions, cloud.pointCount, parts) : null),
    [cloud, parts],
  );
  const selectedCount = useMemo(() => countSet(highlight, editsKeep), [highlight, editsKeep]);

  const finishShape = (shape: DrawnShape, additive: boolean) => {
    const view = env.view();
    if (!view || !cloud) return;
    if (isDegenerate(shape)) {
      if (!additive) setParts([]);
      return;
    }
    const region = lassoFromShape(shape, view.size, lassoViewProjection(cloud, view.camera));
    setParts((current) => (additive ? [...current, region] : [region]));
  };

  // Shift-added regions go to the core as one union: one edit, one undo step.
  const selection = (): Selection =>
    parts.length === 1
      ? { kind: 'lasso', lasso: parts[0] }
      : { kind: 'regions', regions: parts.map((region) => ({ kind: 'lasso' as const, lasso: region })) };

  const push = async (kind: 'delete-selection' | 'keep-selection') => {
    if (parts.length === 0) return;
    if (await edits.push({ kind, params: { selection: selection() } })) setParts([]);
  };

  const outline = drawing ? shapeOutline(drawing.shape) : null;
  return {
    deactivate: () => {
      setParts([]);
      setDrawing(null);
    },
    pointer: {
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
    },
    onKey: (event) => {
      // Esc first drops the outline being drawn; the next one leaves the tool.
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
    highlight,
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
