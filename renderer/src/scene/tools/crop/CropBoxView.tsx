// The crop box in the view: its edges and one handle per face. The box is
// axis-aligned in the levelled world, so it is drawn under the inverse of the
// ground alignment (the viewer's group applies the alignment to its children).

import { useEffect, useMemo } from 'react';
import { BoxGeometry, BufferAttribute, BufferGeometry, EdgesGeometry, Matrix4 } from 'three';
import { CROP_HANDLES, handlePosition, type CropBox, type CropHandle } from './crop-box';

export const CROP_HANDLE_COLOR = '#ff3cff';
const EDGE_COLOR = '#9fb4d6';
const ACTIVE_HANDLE_COLOR = '#ffffff';

interface CropBoxViewProps {
  box: CropBox;
  /** levelledFromStored; the view draws under its inverse. */
  alignment: Matrix4;
  activeHandle: CropHandle | null;
}

export function CropBoxView({ box, alignment, activeHandle }: CropBoxViewProps) {
  const storedFromLevelled = useMemo(() => alignment.clone().invert(), [alignment]);
  const size = box.max.map((v, a) => Math.max(v - box.min[a], 1e-9));
  const centre = box.min.map((v, a) => (v + box.max[a]) / 2) as [number, number, number];
  const edges = useMemo(() => new EdgesGeometry(new BoxGeometry(1, 1, 1)), []);
  useEffect(() => () => edges.dispose(), [edges]);
  const handles = useMemo(() => {
    const geometry = new BufferGeometry();
    geometry.setAttribute(
      'position',
      new BufferAttribute(new Float32Array(CROP_HANDLES.flatMap((h) => handlePosition(box, h))), 3),
    );
    return geometry;
  }, [box]);
  useEffect(() => () => handles.dispose(), [handles]);
  const active = useMemo(() => {
    if (!activeHandle) return null;
    const geometry = new BufferGeometry();
    geometry.setAttribute(
      'position',
      new BufferAttribute(new Float32Array(handlePosition(box, activeHandle)), 3),
    );
    return geometry;
  }, [box, activeHandle]);
  useEffect(() => () => active?.dispose(), [active]);
  return (
    <group matrixAutoUpdate={false} matrix={storedFromLevelled}>
      <lineSegments
        geometry={edges}
        position={centre}
        scale={size as [number, number, number]}
        renderOrder={10}
      >
        <lineBasicMaterial color={EDGE_COLOR} depthTest={false} transparent />
      </lineSegments>
      <points geometry={handles} renderOrder={11}>
        <pointsMaterial
          color={CROP_HANDLE_COLOR}
          size={14}
          sizeAttenuation={false}
          depthTest={false}
          transparent
        />
      </points>
      {active && (
        <points geometry={active} renderOrder={12}>
          <pointsMaterial
            color={ACTIVE_HANDLE_COLOR}
            size={14}
            sizeAttenuation={false}
            depthTest={false}
            transparent
          />
        </points>
      )}
    </group>
  );
}
