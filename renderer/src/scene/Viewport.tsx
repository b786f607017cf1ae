// The 3D view of a scene: point cloud and camera frustums inside one group that
// converts OpenCV axes to three.js axes, orbit/pan/zoom controls, and framing
// the whole scene on request (ViewCamera.tsx: nothing else moves the camera).
// Rendering is on demand: a still scene costs no GPU.
// The cloud is a BudgetedPointCloud (./points): uploaded once, thinned while the
// camera moves, with per-point keep/highlight masks.

import { GizmoHelper, GizmoViewport, OrbitControls } from '@react-three/drei';
import { Canvas } from '@react-three/fiber';
import { useMemo, type ReactNode } from 'react';
import { Vector3, type BufferGeometry } from 'three';
import type { SceneDetail } from '../../../main/common/domain';
import { CameraFrustums } from './CameraFrustums';
import { GroundGrid } from './GroundGrid';
import { THREE_FROM_OPENCV_EULER } from './opencv-axes';
import type { BudgetedPointCloud } from './points/budgeted-point-cloud';
import { PointCloudLayer } from './points/PointCloudLayer';
import { sceneBoxThree } from './scene-extent';
import { alignmentMatrix, levelBoxThree } from './tools/levelled-world';
import type { ViewRequest } from './view-presets';
import { CameraReadout, ViewCamera } from './ViewCamera';

/** x, y, z of the axis gizmo (three.js axes: y up once levelled). */
const AXIS_COLORS: [string, string, string] = ['#c8646e', '#6ec864', '#5a82d2'];

interface ViewportProps {
  scene: SceneDetail;
  geometry: BufferGeometry | null;
  pointSizePx: number;
  /** The view preset to apply (Fit to scene, Top, Front, Side); a new object applies it again. */
  view: ViewRequest;
  showCameras: boolean;
  activeFrameId: string | null;
  /** 1 = shown, per point in stored order; null or absent shows every point. */
  keep?: Uint8Array | null;
  /** Non-zero = drawn in the highlight colour (selections), per point in stored order. */
  highlight?: Uint8Array | null;
  /** The drawn cloud once built (for pickPoint / lassoViewProjection in ./points), null when gone. */
  onCloud?: (cloud: BudgetedPointCloud | null) => void;
  /** Drawn with the cloud: stored (OpenCV) coordinates, under the same ground alignment. */
  children?: ReactNode;
}

export function Viewport({
  scene,
  geometry,
  pointSizePx,
  view,
  showCameras,
  activeFrameId,
  keep = null,
  highlight = null,
  onCloud,
  children,
}: ViewportProps) {
  const box = useMemo(
    () => levelBoxThree(sceneBoxThree(scene, geometry), scene.groundAlignment),
    [scene, geometry],
  );
  const levelled = useMemo(() => alignmentMatrix(scene.groundAlignment), [scene.groundAlignment]);
  const frustumDepth = box ? Math.max(box.getSize(new Vector3()).length() * 0.04, 1e-3) : 0.1;
  return (
    <Canvas
      className="viewport-canvas"
      data-testid="viewport"
      data-view={view.preset}
      data-grid={box && scene.groundAlignment ? 'on' : 'off'}
      frameloop="demand"
      dpr={[1, 2]}
      // Colours are stored as sRGB bytes and thumbnails are sRGB images: with a
      // linear output and no tone mapping they reach the screen unchanged.
      linear
      flat
      camera={{ fov: 50, near: 0.01, far: 1000, position: [0, 0, 5] }}
    >
      <group name="opencv-to-three" rotation={THREE_FROM_OPENCV_EULER}>
        {/* The ground alignment stands the scene upright; stored points never move. */}
        <group name="levelled" matrixAutoUpdate={false} matrix={levelled}>
          {geometry && (
            <PointCloudLayer
              geometry={geometry}
              pointSizePx={pointSizePx}
              keep={keep}
              highlight={highlight}
              onCloud={onCloud}
            />
          )}
          {showCameras && scene.cameras.length > 0 && (
            <CameraFrustums
              cameras={scene.cameras}
              frames={scene.frames}
              depth={frustumDepth}
              activeFrameId={activeFrameId}
            />
          )}
          {children}
        </group>
        {box && scene.groundAlignment && (
          // The grid's plane is y = 0 of the levelled world: inside the flip only.
          <GroundGrid box={box} metresPerUnit={scene.metresPerUnit} />
        )}
      </group>
      <OrbitControls makeDefault enableDamping={false} screenSpacePanning />
      <ViewCamera
        box={box}
        request={view}
        // Framed again for new points (loaded, reconstructed), never for a scale or a levelling.
        fitKey={`${scene.id}:${scene.reconstruction?.id ?? 'source'}:${scene.pointCount}:${geometry ? 'points' : 'bounds'}`}
        alignment={scene.groundAlignment}
      />
      <CameraReadout />
      <GizmoHelper alignment="bottom-right" margin={[64, 64]}>
        {/* Muted axis colours: the viewer's own red/green/blue marks stay the only pure ones on screen. */}
        <GizmoViewport axisColors={AXIS_COLORS} labelColor="#101317" />
      </GizmoHelper>
    </Canvas>
  );
}
