// Each reconstructed camera as a wireframe pyramid with its frame's thumbnail on
// the near plane, placed by worldFromCamera. Coordinates here are OpenCV
// (the parent group converts to three.js axes).

import { useThree } from '@react-three/fiber';
import { useEffect, useMemo, useState } from 'react';
import { BufferGeometry, DoubleSide, Float32BufferAttribute, TextureLoader, type Texture } from 'three';
import { blobPaths } from '../../../main/common/api';
import type { CameraInfo, FrameInfo } from '../../../main/common/domain';
import { useStudio } from '../common/studio-context';
import { matrixFromRowMajor } from './opencv-axes';

interface ImageRect {
  /** Image corners at the given depth, in camera coordinates: left, right, top, bottom. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  depth: number;
}

/** Beyond this half-extent per unit depth (about 150° of view) intrinsics are not plausible for a phone camera. */
const MAX_PLAUSIBLE_SLOPE = 4;

function imageRect(camera: CameraInfo, frame: FrameInfo | undefined, depth: number): ImageRect {
  const k = camera.intrinsics;
  if (k && k.fx > 0 && k.fy > 0) {
    const rect = {
      x0: ((0 - k.cx) / k.fx) * depth,
      x1: ((k.width - k.cx) / k.fx) * depth,
      y0: ((0 - k.cy) / k.fy) * depth,
      y1: ((k.height - k.cy) / k.fy) * depth,
      depth,
    };
    const slope =
      Math.max(Math.abs(rect.x0), Math.abs(rect.x1), Math.abs(rect.y0), Math.abs(rect.y1)) / depth;
    if (slope <= MAX_PLAUSIBLE_SLOPE) return rect;
  }
  // Unknown (or implausible) intrinsics: draw a 60° horizontal field of view with the frame's aspect.
  const aspect = frame ? frame.height / frame.width : 0.75;
  const halfWidth = Math.tan(Math.PI / 6) * depth;
  return { x0: -halfWidth, x1: halfWidth, y0: -halfWidth * aspect, y1: halfWidth * aspect, depth };
}

function frustumLines({ x0, x1, y0, y1, depth: z }: ImageRect): BufferGeometry {
  const corners = [
    [x0, y0, z],
    [x1, y0, z],
    [x1, y1, z],
    [x0, y1, z],
  ];
  const positions: number[] = [];
  for (let i = 0; i < 4; i++) {
    positions.push(0, 0, 0, ...corners[i]); // apex to corner
    positions.push(...corners[i], ...corners[(i + 1) % 4]); // image border
  }
  const geometry = new BufferGeometry();
  geometry.setAttribute('position', new Float32BufferAttribute(positions, 3));
  return geometry;
}

function useThumbTexture(url: string | null): Texture | null {
  const invalidate = useThree((state) => state.invalidate);
  const [texture, setTexture] = useState<Texture | null>(null);
  useEffect(() => {
    if (!url) return;
    let loaded: Texture | null = null;
    let live = true;
    new TextureLoader().load(url, (result) => {
      if (!live) {
        result.dispose();
        return;
      }
      loaded = result;
      setTexture(result);
      invalidate();
    });
    return () => {
      live = false;
      loaded?.dispose();
    };
  }, [url, invalidate]);
  return url ? texture : null;
}

interface FrustumProps {
  camera: CameraInfo;
  frame: FrameInfo | undefined;
  depth: number;
  highlighted: boolean;
}

function Frustum({ camera, frame, depth, highlighted }: FrustumProps) {
  const { client } = useStudio();
  const rect = useMemo(() => imageRect(camera, frame, depth), [camera, frame, depth]);
  const lines = useMemo(() => frustumLines(rect), [rect]);
  useEffect(() => () => lines.dispose(), [lines]);
  const matrix = useMemo(() => matrixFromRowMajor(camera.worldFromCamera), [camera.worldFromCamera]);
  const thumbUrl = frame ? client.blobUrl(blobPaths.frameThumb(frame.id)) : null;
  const texture = useThumbTexture(thumbUrl);

  return (
    <group matrix={matrix} matrixAutoUpdate={false}>
      {/* The outlines draw over the cloud (no depth test): cameras usually sit inside a
          dense reconstruction, and the camera path must stay readable there. */}
      <lineSegments geometry={lines} renderOrder={10}>
        <lineBasicMaterial
          color={highlighted ? '#ffb454' : '#5cc8ff'}
          depthTest={false}
          depthWrite={false}
          transparent
          opacity={0.9}
        />
      </lineSegments>
      {texture && (
        // PlaneGeometry's +y is the image top; in OpenCV the image top is -y, hence the flip.
        <mesh position={[(rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2, rect.depth]} scale={[1, -1, 1]}>
          <planeGeometry args={[rect.x1 - rect.x0, rect.y1 - rect.y0]} />
          <meshBasicMaterial map={texture} side={DoubleSide} transparent opacity={highlighted ? 1 : 0.85} />
        </mesh>
      )}
    </group>
  );
}

interface CameraFrustumsProps {
  cameras: CameraInfo[];
  frames: FrameInfo[];
  depth: number;
  activeFrameId: string | null;
}

export function CameraFrustums({ cameras, frames, depth, activeFrameId }: CameraFrustumsProps) {
  const frameById = useMemo(() => new Map(frames.map((frame) => [frame.id, frame])), [frames]);
  const frameByIndex = useMemo(() => new Map(frames.map((frame) => [frame.index, frame])), [frames]);
  return (
    <group name="camera-frustums">
      {cameras.map((camera) => {
        const frame =
          (camera.frameId && frameById.get(camera.frameId)) || frameByIndex.get(camera.frameIndex);
        return (
          <Frustum
            key={`${camera.frameId ?? ''}:${camera.frameIndex}`}
            camera={camera}
            frame={frame}
            depth={depth}
            highlighted={frame?.id === activeFrameId}
          />
        );
      })}
    </group>
  );
}
