// The React side of BudgetedPointCloud: builds it when the geometry changes,
// passes props through, and lets it ask R3F for the full-detail frame once the
// view is still (the Canvas renders on demand).

import { useThree } from '@react-three/fiber';
import { useEffect, useRef, useState } from 'react';
import type { BufferGeometry } from 'three';
import { BudgetedPointCloud, type BudgetedPointCloudOptions } from './budgeted-point-cloud';

export interface PointCloudLayerProps {
  /** `position` (float32 xyz, OpenCV coordinates) and optional normalized uint8 `color`. */
  geometry: BufferGeometry;
  pointSizePx: number;
  /** 1 = shown, original point order; null shows every point. */
  keep?: Uint8Array | null;
  /** Non-zero = drawn in the highlight colour, original point order. */
  highlight?: Uint8Array | null;
  options?: BudgetedPointCloudOptions;
  /** The cloud once built (picking, lasso matrices), null when it is gone. */
  onCloud?: (cloud: BudgetedPointCloud | null) => void;
}

export function PointCloudLayer({
  geometry,
  pointSizePx,
  keep = null,
  highlight = null,
  options,
  onCloud,
}: PointCloudLayerProps) {
  const invalidate = useThree((state) => state.invalidate);
  const [cloud, setCloud] = useState<BudgetedPointCloud | null>(null);
  // Built in an effect, not a memo: the cloud owns GPU buffers that its cleanup
  // frees, and StrictMode replays effects (a memoised one would be disposed and reused).
  useEffect(() => {
    const built = BudgetedPointCloud.fromGeometry(geometry, options);
    // The cloud is an external resource with a lifetime (GPU buffers): state set where it is made and freed.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setCloud(built);
    return () => {
      built.dispose();
      setCloud(null);
    };
    // Options are read at build time only: a new object each render must not rebuild 10M points.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [geometry]);
  // The latest callback, so that an inline one does not re-announce the cloud on every render.
  const onCloudRef = useRef(onCloud);
  useEffect(() => {
    onCloudRef.current = onCloud;
  }, [onCloud]);
  useEffect(() => {
    if (!cloud) return;
    cloud.setRenderRequest(() => invalidate());
    onCloudRef.current?.(cloud);
    return () => onCloudRef.current?.(null);
  }, [cloud, invalidate]);
  useEffect(() => {
    if (!cloud) return;
    cloud.setPointSize(pointSizePx);
    cloud.setMasks(keep, highlight);
    invalidate();
  }, [cloud, pointSizePx, keep, highlight, invalidate]);
  return cloud ? <primitive object={cloud} /> : null;
}
