// Measure: click two points for their distance (in metres once the scene has a
// scale); give the real distance of the two points to set the scene's scale.

import { useState } from 'react';
import type { SceneScaleInput } from '../../../../../main/common/api';
import { useStudio } from '../../../common/studio-context';
import type { Vec3 } from '../levelled-world';
import { PickMarkers } from '../PickMarkers';
import { useSceneCall } from '../use-scene-call';
import type { ToolEnv, ViewerTool } from '../viewer-tool';
import { shownDistance } from './distance-label';
import { MeasurePanel } from './MeasurePanel';

const MEASURE_COLOR = '#ffffff';

export function useMeasureTool(env: ToolEnv): ViewerTool {
  const { client } = useStudio();
  const { scene } = env;
  const sceneCall = useSceneCall();
  const [points, setPoints] = useState<Vec3[]>([]);
  const measured = points.length === 2 ? shownDistance(points[0], points[1], scene.metresPerUnit) : null;
  const setScale = (scale: SceneScaleInput) =>
    void sceneCall.run(() => client.call('scenes.setScale', { sceneId: scene.id, scale }));

  return {
    deactivate: () => setPoints([]),
    pointer: {
      onClick: (pointer) => {
        const point = env.pickAt(pointer);
        if (point) setPoints((current) => (current.length >= 2 ? [point] : [...current, point]));
      },
    },
    canvasContent: (
      <PickMarkers
        points={points}
        color={MEASURE_COLOR}
        line
        label={measured?.text ?? null}
        labelTestId="measure-label"
      />
    ),
    panel: (
      <MeasurePanel
        picked={points.length}
        distance={measured}
        metresPerUnit={scene.metresPerUnit}
        busy={sceneCall.busy}
        onSetScale={(metres) => setScale({ kind: 'known-distance', a: points[0], b: points[1], metres })}
        onClearScale={() => setScale({ kind: 'none' })}
      />
    ),
  };
}
