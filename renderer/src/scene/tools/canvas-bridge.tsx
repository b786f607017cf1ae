// The viewer tools live partly outside the Canvas (toolbar, drawing overlay,
// pointer handling): this hands them the R3F store's getter, so they read the
// current camera, size and controls when a pointer event comes, not via React state.

import { useThree, type RootState } from '@react-three/fiber';
import { useEffect } from 'react';

export type CanvasState = () => RootState;

export function CanvasBridge({ onState }: { onState: (get: CanvasState | null) => void }) {
  const get = useThree((state) => state.get);
  useEffect(() => {
    onState(get);
    return () => onState(null);
  }, [get, onState]);
  return null;
}
