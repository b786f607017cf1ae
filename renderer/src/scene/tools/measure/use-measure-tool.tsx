// The Measure tool: two clicked points and their distance (metres once the
// scene has a scale); from them the user can set the scene's scale.

import { useState } from 'react';
import { useStudio } from '../../../common/studio-context';
import type { Vec3 } from '../levelled-world';
import { PickMarkers } from '../PickMarkers';
import { pickAt, type ToolContext } from '../tool-context';
import type { ViewerTool } from '../tool-manager';
import type { SceneCall } from '../use-scene-call';
import { shownDistance } from './distance-label';
import { MeasurePanel } from './MeasurePanel';

const MEASURE_COLOR = '#ffffff';

export function useMeasureTool(context: ToolContext, sceneCall: SceneCall): ViewerTool {
  const { client } = useStudio();
  const { scene } = context;
  const [points, setPoints] = useState<Vec3[]>([]);
  const measured = points.length === 2 ? shownDistance(points[0], points[1], scene.metresPerUnit) : null;
  return {
    deactivate: () => setPoints([]),
    onClick: (pointer) => {
      const point = pickAt(context, pointer);
      if (point) setPoints((current) => (current.length >= 2 ? [point] : [...current, point]));
    },
    cursor: 'crosshair',
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
        onSetScale={(metres) =>
          void sceneCall.run(() =>
            client.call('scenes.setScale', {
              sceneId: scene.id,
              scale: { kind: 'known-distance', a: points[0], b: points[1], metres },
            }),
          )
        }
        onClearScale={() =>
          void sceneCall.run(() =>
            client.call('scenes.setScale', { sceneId: scene.id, scale: { kind: 'none' } }),
          )
        }
      />
    ),
  };
}
