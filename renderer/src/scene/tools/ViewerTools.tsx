// The viewer's interactive tools: crop box, rectangle and lasso selection,
// measuring and scale, ground plane, question marks. Each tool is a hook of
// its own (./crop, ./selection, ./measure, ./ground, ./mark) registered with
// the tool manager, which activates one at a time and routes the canvas
// pointer and keys to it. Edits go through the shared edit stack
// (useSceneEdits), scale and ground through the scene; picks and selections
// are taken in the stored (OpenCV) world the core works in. The tools give the
// Viewport what to draw (masks, markers) and draw their own toolbar and panels.

import { useCallback, useMemo, useState, type ReactNode } from 'react';
import type { SceneDetail } from '../../../../main/common/domain';
import './tools.css';
import type { SceneEdits } from '../editing/use-scene-edits';
import type { BudgetedPointCloud } from '../points/budgeted-point-cloud';
import { CanvasBridge, type CanvasState } from './canvas-bridge';
import { useCropTool } from './crop/use-crop-tool';
import { useGroundTool } from './ground/use-ground-tool';
import { alignmentMatrix, type Vec3 } from './levelled-world';
import { useMarkTool } from './mark/use-mark-tool';
import { useMeasureTool } from './measure/use-measure-tool';
import { PickMarkers } from './PickMarkers';
import { useSelectionTool } from './selection/use-selection-tool';
import type { ToolContext } from './tool-context';
import { useToolMode, useToolRouting, type ToolRegistry } from './tool-manager';
import { ToolBar } from './ToolBar';
import { useSceneCall } from './use-scene-call';
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

function both(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (!a || !b) return a ?? b;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

const ORBIT: ToolRegistry['orbit'] = {};

export function ViewerTools({ scene, edits, keep, pointMarkers, onMarkPoint, children }: ViewerToolsProps) {
  const modes = useToolMode();
  const { mode, setMode } = modes;
  const [cloud, setCloud] = useState<BudgetedPointCloud | null>(null);
  const [canvas, setCanvas] = useState<{ get: CanvasState } | null>(null);
  const onCanvasState = useCallback((get: CanvasState | null) => setCanvas(get ? { get } : null), []);
  const sceneCall = useSceneCall();

  const alignment = useMemo(() => alignmentMatrix(scene.groundAlignment), [scene.groundAlignment]);
  const context: ToolContext = {
    scene,
    edits,
    cloud,
    canvas: canvas?.get ?? null,
    // Only a mask over the cloud being drawn (a voxel cloud may still be loading).
    editsKeep: cloud && keep && keep.length === cloud.pointCount ? keep : null,
    alignment,
  };
  const shownCount = edits.state?.keptCount ?? cloud?.pointCount ?? null;

  const crop = useCropTool(context, mode === 'crop', shownCount, () => setMode('orbit'));
  const selection = useSelectionTool(context, mode === 'lasso');
  const tools: ToolRegistry = {
    orbit: ORBIT,
    crop,
    select: selection,
    lasso: selection,
    measure: useMeasureTool(context, sceneCall),
    ground: useGroundTool(context, sceneCall),
    mark: useMarkTool(context, onMarkPoint),
  };
  useToolRouting(modes, tools, context.canvas);
  const active = tools[mode];

  // The crop hides what falls outside; selections light up what an edit would take.
  const shownKeep = useMemo(() => both(context.editsKeep, crop.inside), [context.editsKeep, crop.inside]);
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
      {children({ keep: shownKeep, highlight: selection.highlight, onCloud: setCloud, canvasContent })}
      {active.overlay}
      <ToolBar
        mode={mode}
        hasCloud={cloud !== null}
        reconstructed={Boolean(scene.reconstruction)}
        onChoose={setMode}
      />
      {active.panel}
    </>
  );
}
