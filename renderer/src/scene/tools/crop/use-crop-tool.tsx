// The Crop tool: a box in the levelled world, starting at the kept points'
// robust bounds with every handle on screen; its face handles are dragged (a
// drag moves a face no further than its length at the handle's depth allows)
// or its size typed in the panel. Points outside are hidden until Apply makes
// it a crop edit.

import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { threeFromOpenCvPoint } from '../../opencv-axes';
import { levelledBounds, robustLevelledBounds, type Vec3 } from '../levelled-world';
import { cssFromWorld, lineParameterUnderPointer, ndcFromCss, worldPerPixelAt } from '../screen-math';
import { countSet, viewOf, type ToolContext } from '../tool-context';
import type { ViewerTool } from '../tool-manager';
import type { CanvasPointer } from '../use-canvas-pointer';
import {
  CROP_HANDLES,
  cropEdit,
  handlePosition,
  insideCropBox,
  limitedFaceMove,
  moveHandle,
  resizeAxis,
  startingCropBox,
  type CropBox,
  type CropHandle,
} from './crop-box';
import { CropBoxView } from './CropBoxView';
import { CropPanel } from './CropPanel';
import { frameCropHandles } from './frame-crop-box';

const HANDLE_RADIUS_PX = 14;

export interface CropTool extends ViewerTool {
  /** 1 = inside the box, per point of the drawn cloud, while the tool is active. */
  inside: Uint8Array | null;
}

interface Drag {
  handle: CropHandle;
  box: CropBox;
  pointer: CanvasPointer;
}

export function useCropTool(
  context: ToolContext,
  active: boolean,
  shownCount: number | null,
  onLeave: () => void,
): CropTool {
  const { cloud, canvas, editsKeep, alignment, scene, edits } = context;
  const [box, setBox] = useState<CropBox | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  // The last box made from the cloud: all its handles come into view once (framed holds the last one done).
  const [startBox, setStartBox] = useState<CropBox | null>(null);
  const framed = useRef<CropBox | null>(null);

  const cloudBox = useCallback(() => {
    if (!cloud) return null;
    const full = levelledBounds(cloud.sourcePositions, cloud.pointCount, editsKeep, alignment);
    if (!full) return null;
    const robust = robustLevelledBounds(cloud.sourcePositions, cloud.pointCount, editsKeep, alignment);
    return startingCropBox(full, robust);
  }, [cloud, editsKeep, alignment]);
  const startFromCloud = () => {
    const start = cloudBox();
    setBox(start);
    setStartBox(start);
  };

  // The crop box waits for the cloud when the tool was chosen before it loaded.
  if (active && !box && cloud) {
    const start = cloudBox();
    if (start) {
      setBox(start);
      setStartBox(start);
    }
  }
  useEffect(() => {
    if (!startBox || !canvas || framed.current === startBox) return;
    framed.current = startBox;
    frameCropHandles(canvas, startBox);
  }, [startBox, canvas]);

  // The preview hides what falls outside.
  const deferredBox = useDeferredValue(box);
  const inside = useMemo(
    () =>
      active && deferredBox && cloud
        ? insideCropBox(cloud.sourcePositions, cloud.pointCount, deferredBox, scene.groundAlignment)
        : null,
    [active, deferredBox, cloud, scene.groundAlignment],
  );
  const kept = useMemo(() => (inside ? countSet(inside, editsKeep) : null), [inside, editsKeep]);

  /** The handle under the pointer, nearest first. */
  const handleAt = (pointer: CanvasPointer): CropHandle | null => {
    if (!canvas || !box) return null;
    const { camera, size } = viewOf(canvas);
    let best: CropHandle | null = null;
    let bestDistance = HANDLE_RADIUS_PX;
    for (const handle of CROP_HANDLES) {
      const screen = cssFromWorld(threeFromOpenCvPoint(handlePosition(box, handle)), camera, size);
      if (!screen) continue;
      const d = Math.hypot(screen.x - pointer.x, screen.y - pointer.y);
      if (d <= bestDistance) {
        bestDistance = d;
        best = handle;
      }
    }
    return best;
  };

  const dragTo = (pointer: CanvasPointer) => {
    if (!canvas || !drag) return;
    const { camera, size } = viewOf(canvas);
    const { handle } = drag;
    const origin = threeFromOpenCvPoint(handlePosition(drag.box, handle));
    const axis: Vec3 = [0, 0, 0];
    axis[handle.axis] = 1;
    const exact = lineParameterUnderPointer(
      origin,
      threeFromOpenCvPoint(axis).normalize(),
      ndcFromCss(pointer.x, pointer.y, size),
      camera,
    );
    if (exact === null || !Number.isFinite(exact)) return;
    const dragPx = Math.hypot(pointer.x - drag.pointer.x, pointer.y - drag.pointer.y);
    const move = limitedFaceMove(exact, dragPx, worldPerPixelAt(origin, camera, size));
    setBox(moveHandle(drag.box, handle, drag.box[handle.side][handle.axis] + move));
  };

  const apply = async () => {
    if (!box) return;
    if (await edits.push(cropEdit(box, scene.groundAlignment))) onLeave();
  };

  return {
    inside,
    activate: startFromCloud,
    deactivate: () => {
      setBox(null);
      setDrag(null);
    },
    onPress: (pointer) => {
      const handle = handleAt(pointer);
      setDrag(handle && box ? { handle, box, pointer } : null);
      return handle !== null;
    },
    onDrag: dragTo,
    onRelease: (pointer) => {
      dragTo(pointer);
      setDrag(null);
    },
    onCancel: () => setDrag(null),
    onKey: (event) => {
      if (event.key !== 'Enter') return false;
      void apply();
      return true;
    },
    canvasContent: box && <CropBoxView box={box} alignment={alignment} activeHandle={drag?.handle ?? null} />,
    panel: (
      <CropPanel
        box={box}
        keptPreview={kept}
        shownCount={shownCount}
        busy={edits.busy}
        metresPerUnit={scene.metresPerUnit}
        onResize={(axis, size) => setBox((current) => (current ? resizeAxis(current, axis, size) : current))}
        onApply={() => void apply()}
        onReset={startFromCloud}
        onCancel={onLeave}
      />
    ),
  };
}
