// The crop tool: a box (in the levelled world) with six face handles dragged
// along their axis; points outside it are hidden as a preview; Apply (or
// Enter) pushes a crop edit.

import { useCallback, useDeferredValue, useMemo, useState } from 'react';
import { threeFromOpenCvPoint } from '../../opencv-axes';
import { levelledBounds, type Vec3 } from '../levelled-world';
import { cssFromWorld, lineParameterUnderPointer, ndcFromCss } from '../screen-math';
import type { CanvasPointer } from '../use-canvas-pointer';
import { countSet, type ToolEnv, type ViewerTool } from '../viewer-tool';
import {
  CROP_HANDLES,
  cropEdit,
  handlePosition,
  initialCropBox,
  insideCropBox,
  moveHandle,
  type CropBox,
  type CropHandle,
} from './crop-box';
import { CropBoxView } from './CropBoxView';
import { CropPanel } from './CropPanel';

const HANDLE_RADIUS_PX = 14;

export function useCropTool(env: ToolEnv, active: boolean): ViewerTool {
  const { cloud, editsKeep, alignment, scene, edits } = env;
  const [box, setBox] = useState<CropBox | null>(null);
  const [activeHandle, setActiveHandle] = useState<CropHandle | null>(null);

  const cloudBox = useCallback(() => {
    if (!cloud) return null;
    const bounds = levelledBounds(cloud.sourcePositions, cloud.pointCount, editsKeep, alignment);
    return bounds ? initialCropBox(bounds) : null;
  }, [cloud, editsKeep, alignment]);

  // The box waits for the cloud when the tool was chosen before it loaded.
  if (active && !box && cloud) {
    const initial = cloudBox();
    if (initial) setBox(initial);
  }

  const deferredBox = useDeferredValue(box);
  const inside = useMemo(
    () =>
      active && deferredBox && cloud
        ? insideCropBox(cloud.sourcePositions, cloud.pointCount, deferredBox, scene.groundAlignment)
        : null,
    [active, deferredBox, cloud, scene.groundAlignment],
  );
  const keptPreview = useMemo(() => (inside ? countSet(inside, editsKeep) : null), [inside, editsKeep]);

  /** The handle under the pointer, nearest first. */
  const handleAt = (pointer: CanvasPointer): CropHandle | null => {
    const view = env.view();
    if (!view || !box) return null;
    let best: CropHandle | null = null;
    let bestDistance = HANDLE_RADIUS_PX;
    for (const handle of CROP_HANDLES) {
      const screen = cssFromWorld(threeFromOpenCvPoint(handlePosition(box, handle)), view.camera, view.size);
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
    const view = env.view();
    if (!view || !box || !activeHandle) return;
    const origin = handlePosition(box, activeHandle);
    const axis: Vec3 = [0, 0, 0];
    axis[activeHandle.axis] = 1;
    const s = lineParameterUnderPointer(
      threeFromOpenCvPoint(origin),
      threeFromOpenCvPoint(axis).normalize(),
      ndcFromCss(pointer.x, pointer.y, view.size),
      view.camera,
    );
    if (s === null || !Number.isFinite(s)) return;
    setBox(moveHandle(box, activeHandle, origin[activeHandle.axis] + s));
  };

  const apply = async () => {
    if (box && (await edits.push(cropEdit(box, scene.groundAlignment)))) env.setMode('orbit');
  };

  return {
    activate: () => setBox(cloudBox()),
    deactivate: () => {
      setBox(null);
      setActiveHandle(null);
    },
    pointer: {
      onPress: (pointer) => {
        const handle = handleAt(pointer);
        setActiveHandle(handle);
        return handle !== null;
      },
      onDrag: dragHandle,
      onRelease: (pointer) => {
        dragHandle(pointer);
        setActiveHandle(null);
      },
      onCancel: () => setActiveHandle(null),
    },
    onKey: (event) => {
      if (event.key !== 'Enter') return false;
      void apply();
      return true;
    },
    keep: inside,
    canvasContent: box && <CropBoxView box={box} alignment={alignment} activeHandle={activeHandle} />,
    panel: (
      <CropPanel
        box={box}
        keptPreview={keptPreview}
        shownCount={edits.state?.keptCount ?? cloud?.pointCount ?? null}
        busy={edits.busy}
        onApply={() => void apply()}
        onReset={() => setBox(cloudBox())}
        onCancel={() => env.setMode('orbit')}
      />
    ),
  };
}
