// The viewer's tool manager: the tool bar, which tool is active, and routing.
// Each tool (crop, rectangle/lasso selection, measure, ground, mark) is one
// hook in its folder returning a ViewerTool (viewer-tool.ts): the manager
// activates and deactivates them as the user switches, sends the canvas's
// pointer events and the keyboard to the active one, and hands the Viewport
// what the tools draw. Picks and selections are in the stored (OpenCV) world
// the core works in.

import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { SceneDetail } from '../../../../main/common/domain';
import { MARKER_CSS } from '../../qa/marker-coords';
import type { PointMarker } from '../../qa/qa-markers';
import type { SceneEdits } from '../editing/use-scene-edits';
import type { BudgetedPointCloud } from '../points/budgeted-point-cloud';
import { pickPoint } from '../points/point-picking';
import { CanvasBridge, type CanvasState } from './canvas-bridge';
import { useCropTool } from './crop/use-crop-tool';
import { useGroundTool } from './ground/use-ground-tool';
import { alignmentMatrix, type Vec3 } from './levelled-world';
import { useMarkTool } from './mark/use-mark-tool';
import { useMeasureTool } from './measure/use-measure-tool';
import { PickMarkers } from './PickMarkers';
import { ndcFromCss } from './screen-math';
import { useSelectionTool } from './selection/use-selection-tool';
import { TOOL_MODES, type ToolMode } from './tool-modes';
import './tools.css';
import { useCanvasPointer, type CanvasPointer } from './use-canvas-pointer';
import { bothMasks, type ToolEnv, type ViewerTool } from './viewer-tool';

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

const isTyping = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export function ViewerTools({ scene, edits, keep, pointMarkers, onMarkPoint, children }: ViewerToolsProps) {
  const [mode, setModeState] = useState<ToolMode>('orbit');
  const [cloud, setCloud] = useState<BudgetedPointCloud | null>(null);
  const [canvas, setCanvas] = useState<{ get: CanvasState } | null>(null);
  const onCanvasState = useCallback((get: CanvasState | null) => setCanvas(get ? { get } : null), []);
  const alignment = useMemo(() => alignmentMatrix(scene.groundAlignment), [scene.groundAlignment]);
  // Only a mask over the cloud being drawn (a voxel cloud may still be loading).
  const editsKeep = cloud && keep && keep.length === cloud.pointCount ? keep : null;

  const view = useCallback(() => {
    if (!canvas) return null;
    const { camera, size } = canvas.get();
    camera.updateMatrixWorld();
    return { camera, size };
  }, [canvas]);
  const modeRef = useRef(mode);
  const env: ToolEnv = {
    scene,
    edits,
    cloud,
    editsKeep,
    alignment,
    view,
    pickAt: (pointer: CanvasPointer) => {
      const current = view();
      if (!current || !cloud) return null;
      const ndc = ndcFromCss(pointer.x, pointer.y, current.size);
      return pickPoint(cloud, current.camera, ndc, PICK_RADIUS_PX, current.size)?.position ?? null;
    },
    setMode: (next) => setMode(next),
  };

  // Rectangle and lasso are one selection tool (they share the regions), drawn two ways.
  const selection = useSelectionTool(env, mode === 'lasso');
  const tools: Record<ToolMode, ViewerTool> = {
    orbit: {},
    crop: useCropTool(env, mode === 'crop'),
    select: selection,
    lasso: selection,
    measure: useMeasureTool(env),
    ground: useGroundTool(env),
    mark: useMarkTool(env, onMarkPoint),
  };
  const active = tools[mode];

  function setMode(next: ToolMode) {
    const previous = modeRef.current;
    if (next === previous) return;
    if (tools[previous] !== tools[next]) {
      tools[previous].deactivate?.();
      tools[next].activate?.();
    }
    modeRef.current = next;
    setModeState(next);
  }

  useCanvasPointer(canvas?.get ?? null, {
    onPress: (pointer) => active.pointer?.onPress?.(pointer) ?? false,
    onDrag: (pointer) => active.pointer?.onDrag?.(pointer),
    onRelease: (pointer) => active.pointer?.onRelease?.(pointer),
    onClick: (pointer) => active.pointer?.onClick?.(pointer),
    onCancel: () => active.pointer?.onCancel?.(),
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

  // Keys go to the active tool; Esc leaves it when it has nothing of its own to cancel.
  // Bound once, reading this render's tools through a ref. Undo/redo keys belong to the edit panel.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    onKey.current = (event: KeyboardEvent) => {
      if (isTyping(event.target)) return;
      if (active.onKey?.(event)) return;
      if (event.key === 'Escape') setMode('orbit');
    };
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  const shownKeep = useMemo(() => bothMasks(editsKeep, active.keep ?? null), [editsKeep, active.keep]);
  const canvasContent = (
    <>
      <CanvasBridge onState={onCanvasState} />
      {active.canvasContent}
      {pointMarkers.map((marker) => (
        <PickMarkers key={marker.color} points={[marker.point]} color={MARKER_CSS[marker.color]} />
      ))}
    </>
  );

  return (
    <>
      {children({ keep: shownKeep, highlight: active.highlight ?? null, onCloud: setCloud, canvasContent })}
      {active.overlay}
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
      {active.panel}
    </>
  );
}
