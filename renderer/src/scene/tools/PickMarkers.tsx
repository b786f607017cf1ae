// Picked points drawn over the cloud in stored coordinates (inside the
// viewer's levelled group): fixed-size squares, optionally joined by a line
// with a label at its middle. Drawn after and over everything so a pick is
// never hidden behind the points it sits among.

import { Html } from '@react-three/drei';
import { useEffect, useMemo } from 'react';
import { BufferAttribute, BufferGeometry } from 'three';
import type { Vec3 } from './levelled-world';

interface PickMarkersProps {
  points: readonly Vec3[];
  color: string;
  /** Join the first two points with a line. */
  line?: boolean;
  /** Shown at the middle of the first two points. */
  label?: string | null;
  labelTestId?: string;
}

/** Markers draw over the cloud (which renders at order 0). */
const OVERLAY_ORDER = 10;

export function PickMarkers({ points, color, line = false, label = null, labelTestId }: PickMarkersProps) {
  const geometry = useMemo(() => {
    const built = new BufferGeometry();
    built.setAttribute('position', new BufferAttribute(new Float32Array(points.flat()), 3));
    return built;
  }, [points]);
  useEffect(() => () => geometry.dispose(), [geometry]);
  if (points.length === 0) return null;
  const middle: Vec3 | null =
    points.length >= 2 ? (points[0].map((v, a) => (v + points[1][a]) / 2) as Vec3) : null;
  return (
    <group>
      <points geometry={geometry} renderOrder={OVERLAY_ORDER}>
        <pointsMaterial color={color} size={10} sizeAttenuation={false} depthTest={false} transparent />
      </points>
      {line && points.length >= 2 && (
        <lineSegments geometry={geometry} renderOrder={OVERLAY_ORDER}>
          <lineBasicMaterial color={color} depthTest={false} transparent />
        </lineSegments>
      )}
      {label && middle && (
        <Html position={middle} center zIndexRange={[20, 10]}>
          <div className="tool-label" data-testid={labelTestId}>
            {label}
          </div>
        </Html>
      )}
    </group>
  );
}
