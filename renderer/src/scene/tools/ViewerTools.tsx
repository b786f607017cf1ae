// The viewer's interactive tools: crop box, rectangle and lasso selection,
// measuring and scale, ground plane. Edits go through the shared edit stack
// (useSceneEdits), scale and ground through the scene; picks and selections
// are taken in the stored (OpenCV) world the core works in. The tools give the
// Viewport what to draw (masks, markers) and draw their own toolbar, panels
// and the outline being drawn over it.

import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SceneDetail } from '../../../../main/common/domain';
import type { Selection, SelectionLasso } from '../../../../main/common/selection';
import { useStudio } from '../../common/studio-context';
import './tools.css';
import type { SceneEdits } from '../editing/use-scene-edits';
import { threeFromOpenCvPoint } from '../opencv-axes';
import type { BudgetedPointCloud } from '../points/budgeted-point-cloud';
import { lassoViewProjection, pickPoint } from '../points/point-picking';
import { CanvasBridge, type CanvasState } from './canvas-bridge';
import {
  CROP_HANDLES,
  cropEdit,
  handlePosition,
  initialCropBox,
  insideCropBox,
  moveHandle,
  type CropBox,
  type CropHandle,
} from './crop/crop-box';
import { CropBoxView } from './crop/CropBoxView';
import { CropPanel } from './crop/CropPanel';
import { GroundPanel } from './ground/GroundPanel';
import { alignmentMatrix, levelledBounds, type Vec3 } from './levelled-world';
import { shownDistance } from './measure/distance-label';
import { MeasurePanel } from './measure/MeasurePanel';
import { PickMarkers } from './PickMarkers';
import { cssFromWorld, lineParameterUnderPointer, ndcFromCss } from './screen-math';
import { SelectionPanel } from './selection/SelectionPanel';
import {
  isDegenerate,
  lassoFromShape,
  selectionMask,
  shapeOutline,
  type DrawnShape,
} from './selection/selection-shapes';
import { isDrawingTool, isPickingTool, TOOL_MODES, type ToolMode } from './tool-modes';
import { useCanvasPointer, type CanvasPointer } from './use-canvas-pointer';
import { MARKER_CSS } from '../../qa/marker-coords';
import type { PointMarker } from '../../qa/qa-markers';

/** What the Viewport draws for the tools. */
export interface ToolLayer {
  keep: Uint8Array | null;
  highlight: Uint8Array | null;
  onCloud: (cloud: BudgetedPointCloud | null) => void;
  /** Rendered inside the Canvas, in stored (OpenCV) coordinates like the cloud. */
  canvasContent: ReactNode;
}

interface ViewerToolsProps {
  scene: SceneDetail;
  edits: SceneEdits;
  /** The mask the viewer would draw without the tools (edits, a filter preview), over the drawn cloud. */
  keep: Uint8Array | null;
  /** Question points picked in 3D, drawn in their colours; the Mark tool adds one per click. */
  pointMarkers: readonly PointMarker[];
  onMarkPoint(point: Vec3): void;
  children: (layer: ToolLayer) => ReactNode;
}

const PICK_RADIUS_PX = 10;
const HANDLE_RADIUS_PX = 14;
const MEASURE_COLOR = '#ffffff';
const GROUND_COLOR = '#44e0a0';

function both(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (!a || !b) return a ?? b;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

function countSet(mask: Uint8Array | null, within: Uint8Array | null): number {
  if (!mask) return 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] && (!within || within[i])) n++;
  return n;
}

const isTyping = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export function ViewerTools({ scene, edits, keep, pointMarkers, onMarkPoint, children }: ViewerToolsProps) {
  const { client, showError } = useStudio();
  const [mode, setModeState] = useState<ToolMode>('orbit');
  const [cloud, setCloud] = useState<BudgetedPointCloud | null>(null);
  const [canvas, setCanvas] = useState<{ get: CanvasState } | null>(null);
  const onCanvasState = useCallback((get: CanvasState | null) => setCanvas(get ? { get } : null), []);
  const [sceneBusy, setSceneBusy] = useState(false);

  const alignment = useMemo(() => alignmentMatrix(scene.groundAlignment), [scene.groundAlignment]);
  // Only a mask over the cloud being drawn (a voxel cloud may still be loading).
  const editsKeep = cloud && keep && keep.length === cloud.pointCount ? keep : null;

  const [cropBox, setCropBox] = useState<CropBox | null>(null);
  const [activeHandle, setActiveHandle] = useState<CropHandle | null>(null);
  const [parts, setParts] = useState<SelectionLasso[]>([]);
  const [drawing, setDrawing] = useState<{ shape: DrawnShape; additive: boolean } | null>(null);
  const [measurePoints, setMeasurePoints] = useState<Vec3[]>([]);
  const [groundPoints, setGroundPoints] = useState<Vec3[]>([]);

  const cloudBoxFor = useCallback(() => {
    if (!cloud) return null;
    const bounds = levelledBounds(cloud.sourcePositions, cloud.pointCount, editsKeep, alignment);
    return bounds ? initialCropBox(bounds) : null;
  }, [cloud, editsKeep, alignment]);

  const setMode = useCallback(
    (next: ToolMode) => {
      setModeState(next);
      setDrawing(null);
      setActiveHandle(null);
      setCropBox(next === 'crop' ? cloudBoxFor() : null);
      if (!isDrawingTool(next)) setParts([]);
      if (next !== 'measure') setMeasurePoints([]);
      if (next !== 'ground') setGroundPoints([]);
    },
    [cloudBoxFor],
  );
  // The crop box waits for the cloud when the tool was chosen before it loaded.
  if (mode === 'crop' && !cropBox && cloud) {
    const box = cloudBoxFor();
    if (box) setCropBox(box);
  }

  // Previews: the crop hides what falls outside; selections light up what an edit would take.
  const deferredBox = useDeferredValue(cropBox);
  const cropInside = useMemo(
    () =>
      mode === 'crop' && deferredBox && cloud
        ? insideCropBox(cloud.sourcePositions, cloud.pointCount, deferredBox, scene.groundAlignment)
        : null,
    [mode, deferredBox, cloud, scene.groundAlignment],
  );
  const shownKeep = useMemo(() => both(editsKeep, cropInside), [editsKeep, cropInside]);
  const highlight = useMemo(
    () => (cloud ? selectionMask(cloud.sourcePositions, cloud.pointCount, parts) : null),
    [cloud, parts],
  );
  const selectedCount = useMemo(() => countSet(highlight, editsKeep), [highlight, editsKeep]);
  const cropKept = useMemo(
    () => (cropInside ? countSet(cropInside, editsKeep) : null),
    [cropInside, editsKeep],
  );
  const shownCount = edits.state?.keptCount ?? cloud?.pointCount ?? null;

  const viewOf = (get: CanvasState) => {
    const { camera, size } = get();
    camera.updateMatrixWorld();
    return { camera, size };
  };

  /** The crop handle under the pointer, nearest first. */
  const handleAt = (pointer: CanvasPointer): CropHandle | null => {
    if (!canvas || !cropBox) return null;
    const { camera, size } = viewOf(canvas.get);
    let best: CropHandle | null = null;
    let bestDistance = HANDLE_RADIUS_PX;
    for (const handle of CROP_HANDLES) {
      const levelled = handlePosition(cropBox, handle);
      const screen = cssFromWorld(threeFromOpenCvPoint(levelled), camera, size);
      if (!screen) continue;
      const d = Math.hypot(screen.x - pointer.x, screen.y - pointer.y);
      if (d <= bestDistance) {
        bestDistance = d;
        best = handle;
      }
    }
    return best;
  };

  const dragHandle = (pointer: CanvasPointer) => {
    if (!canvas || !cropBox || !activeHandle) return;
    const { camera, size } = viewOf(canvas.get);
    const origin = handlePosition(cropBox, activeHandle);
    const axis: Vec3 = [0, 0, 0];
    axis[activeHandle.axis] = 1;
    const s = lineParameterUnderPointer(
      threeFromOpenCvPoint(origin),
      threeFromOpenCvPoint(axis).normalize(),
      ndcFromCss(pointer.x, pointer.y, size),
      camera,
    );
    if (s === null || !Number.isFinite(s)) return;
    setCropBox(moveHandle(cropBox, activeHandle, origin[activeHandle.axis] + s));
  };

  const finishShape = (shape: DrawnShape, additive: boolean) => {
    if (!canvas || !cloud) return;
    if (isDegenerate(shape)) {
      if (!additive) setParts([]);
      return;
    }
    const { camera, size } = viewOf(canvas.get);
    const lasso = lassoFromShape(shape, size, lassoViewProjection(cloud, camera));
    setParts((current) => (additive ? [...current, lasso] : [lasso]));
  };

  const pickAt = (pointer: CanvasPointer): Vec3 | null => {
    if (!canvas || !cloud) return null;
    const { camera, size } = viewOf(canvas.get);
    const pick = pickPoint(cloud, camera, ndcFromCss(pointer.x, pointer.y, size), PICK_RADIUS_PX, size);
    return pick ? pick.position : null;
  };

  useCanvasPointer(canvas?.get ?? null, {
    onPress: (pointer) => {
      if (mode === 'crop') {
        const handle = handleAt(pointer);
        setActiveHandle(handle);
        return handle !== null;
      }
      if (isDrawingTool(mode) && cloud) {
        setDrawing({
          shape: { kind: mode === 'lasso' ? 'lasso' : 'rect', points: [[pointer.x, pointer.y]] },
          additive: pointer.shiftKey,
        });
        return true;
      }
      return false;
    },
    onDrag: (pointer) => {
      if (mode === 'crop') dragHandle(pointer);
      else if (drawing) {
        setDrawing((current) =>
          current ? { ...current, shape: extendShape(current.shape, pointer) } : current,
        );
      }
    },
    onRelease: (pointer) => {
      if (mode === 'crop') {
        dragHandle(pointer);
        setActiveHandle(null);
      } else if (drawing) {
        finishShape(extendShape(drawing.shape, pointer), drawing.additive);
        setDrawing(null);
      }
    },
    onClick: (pointer) => {
      if (!isPickingTool(mode)) return;
      const point = pickAt(pointer);
      if (!point) return;
      if (mode === 'measure')
        setMeasurePoints((current) => (current.length >= 2 ? [point] : [...current, point]));
      else if (mode === 'mark') onMarkPoint(point);
      else setGroundPoints((current) => [...current, point]);
    },
    onCancel: () => {
      setDrawing(null);
      setActiveHandle(null);
    },
  });

  // The cursor says what a press will do.
  useEffect(() => {
    if (!canvas) return;
    const element = canvas.get().gl.domElement;
    element.style.cursor = mode === 'orbit' || mode === 'crop' ? '' : 'crosshair';
    return () => {
      element.style.cursor = '';
    };
  }, [canvas, mode]);

  const applyCrop = async () => {
    if (!cropBox) return;
    if (await edits.push(cropEdit(cropBox, scene.groundAlignment))) setMode('orbit');
  };

  // Shift-added regions go to the core as one union: one edit, one undo step.
  const selectionOfParts = (): Selection =>
    parts.length === 1
      ? { kind: 'lasso', lasso: parts[0] }
      : { kind: 'regions', regions: parts.map((lasso) => ({ kind: 'lasso' as const, lasso })) };

  const deleteSelection = async () => {
    if (parts.length === 0) return;
    if (await edits.push({ kind: 'delete-selection', params: { selection: selectionOfParts() } }))
      setParts([]);
  };

  const keepSelection = async () => {
    if (parts.length === 0) return;
    if (await edits.push({ kind: 'keep-selection', params: { selection: selectionOfParts() } })) setParts([]);
  };

  const sceneCall = async (call: () => Promise<unknown>) => {
    setSceneBusy(true);
    try {
      await call();
      return true;
    } catch (error) {
      showError(error);
      return false;
    } finally {
      setSceneBusy(false);
    }
  };

  // Esc leaves a tool, Delete removes the selection, Enter applies a crop; bound once, reading this render's state through a ref.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    onKey.current = (event: KeyboardEvent) => {
      if (isTyping(event.target)) return;
      // Undo/redo keys belong to the edit panel (useEditShortcuts).
      if (event.key === 'Escape') {
        if (drawing) setDrawing(null);
        else setMode('orbit');
      } else if ((event.key === 'Delete' || event.key === 'Backspace') && parts.length > 0) {
        event.preventDefault();
        void deleteSelection();
      } else if (event.key === 'Enter' && mode === 'crop') {
        void applyCrop();
      }
    };
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  const measured =
    measurePoints.length === 2
      ? shownDistance(measurePoints[0], measurePoints[1], scene.metresPerUnit)
      : null;

  const canvasContent = (
    <>
      <CanvasBridge onState={onCanvasState} />
      {mode === 'crop' && cropBox && (
        <CropBoxView box={cropBox} alignment={alignment} activeHandle={activeHandle} />
      )}
      {mode === 'measure' && (
        <PickMarkers
          points={measurePoints}
          color={MEASURE_COLOR}
          line
          label={measured?.text ?? null}
          labelTestId="measure-label"
        />
      )}
      {mode === 'ground' && <PickMarkers points={groundPoints} color={GROUND_COLOR} />}
      {pointMarkers.map((marker) => (
        <PickMarkers key={marker.color} points={[marker.point]} color={MARKER_CSS[marker.color]} />
      ))}
    </>
  );

  const outline = drawing ? shapeOutline(drawing.shape) : null;
  return (
    <>
      {children({ keep: shownKeep, highlight, onCloud: setCloud, canvasContent })}
      {outline && (
        <svg className="tool-drawing" data-testid="selection-outline">
          <polygon points={outline.map(([x, y]) => `${x},${y}`).join(' ')} />
        </svg>
      )}
      <div className="tool-bar" data-testid="tool-bar" data-mode={mode}>
        {TOOL_MODES.map((tool) => (
          <button
            key={tool.mode}
            className={mode === tool.mode ? 'active' : undefined}
            aria-pressed={mode === tool.mode}
            title={tool.title}
            disabled={(tool.mode !== 'orbit' && !cloud) || (tool.mode === 'mark' && !scene.reconstruction)}
            onClick={() => setMode(mode === tool.mode ? 'orbit' : tool.mode)}
            data-testid={`tool-${tool.mode}`}
          >
            {tool.label}
          </button>
        ))}
      </div>
      {mode === 'crop' && (
        <CropPanel
          box={cropBox}
          keptPreview={cropKept}
          shownCount={shownCount}
          busy={edits.busy}
          onApply={() => void applyCrop()}
          onReset={() => setCropBox(cloudBoxFor())}
          onCancel={() => setMode('orbit')}
        />
      )}
      {isDrawingTool(mode) && (
        <SelectionPanel
          lasso={mode === 'lasso'}
          parts={parts.length}
          selectedCount={selectedCount}
          busy={edits.busy}
          onDelete={() => void deleteSelection()}
          onKeep={() => void keepSelection()}
          onClear={() => setParts([])}
        />
      )}
      {mode === 'measure' && (
        <MeasurePanel
          picked={measurePoints.length}
          distance={measured}
          metresPerUnit={scene.metresPerUnit}
          busy={sceneBusy}
          onSetScale={(metres) =>
            void sceneCall(() =>
              client.call('scenes.setScale', {
                sceneId: scene.id,
                scale: { kind: 'known-distance', a: measurePoints[0], b: measurePoints[1], metres },
              }),
            )
          }
          onClearScale={() =>
            void sceneCall(() =>
              client.call('scenes.setScale', { sceneId: scene.id, scale: { kind: 'none' } }),
            )
          }
        />
      )}
      {mode === 'ground' && (
        <GroundPanel
          picked={groundPoints.length}
          levelled={scene.groundAlignment !== null}
          busy={sceneBusy}
          onLevel={async () => {
            const done = await sceneCall(() =>
              client.call('scenes.setGround', {
                sceneId: scene.id,
                ground: { kind: 'points', points: groundPoints },
              }),
            );
            if (done) setGroundPoints([]);
          }}
          onClearPicks={() => setGroundPoints([])}
          onReset={() =>
            void sceneCall(() =>
              client.call('scenes.setGround', { sceneId: scene.id, ground: { kind: 'none' } }),
            )
          }
        />
      )}
    </>
  );
}

/** The shape after the pointer moved: a rectangle's far corner, or one more lasso point (not closer than 3 px). */
function extendShape(shape: DrawnShape, pointer: CanvasPointer): DrawnShape {
  if (shape.kind === 'rect') return { ...shape, points: [shape.points[0], [pointer.x, pointer.y]] };
  const [lx, ly] = shape.points[shape.points.length - 1];
  if (Math.hypot(pointer.x - lx, pointer.y - ly) < 3) return shape;
  return { ...shape, points: [...shape.points, [pointer.x, pointer.y]] };
}
