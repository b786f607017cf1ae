// The Ground tool: three or more clicked floor points stand the scene upright
// (the core fits the plane and stores the alignment).

import { useState } from 'react';
import { useStudio } from '../../../common/studio-context';
import type { Vec3 } from '../levelled-world';
import { PickMarkers } from '../PickMarkers';
import { pickAt, type ToolContext } from '../tool-context';
import type { ViewerTool } from '../tool-manager';
import type { SceneCall } from '../use-scene-call';
import { GroundPanel } from './GroundPanel';

const GROUND_COLOR = '#44e0a0';

export function useGroundTool(context: ToolContext, sceneCall: SceneCall): ViewerTool {
  const { client } = useStudio();
  const { scene } = context;
  const [points, setPoints] = useState<Vec3[]>([]);
  return {
    deactivate: () => setPoints([]),
    onClick: (pointer) => {
      const point = pickAt(context, pointer);
      if (point) setPoints((current) => [...current, point]);
    },
    cursor: 'crosshair',
    canvasContent: <PickMarkers points={points} color={GROUND_COLOR} />,
    panel: (
      <GroundPanel
        picked={points.length}
        levelled={scene.groundAlignment !== null}
        busy={sceneCall.busy}
        onLevel={async () => {
          const done = await sceneCall.run(() =>
            client.call('scenes.setGround', { sceneId: scene.id, ground: { kind: 'points', points } }),
          );
          if (done) setPoints([]);
        }}
        onClearPicks={() => setPoints([])}
        onReset={() =>
          void sceneCall.run(() =>
            client.call('scenes.setGround', { sceneId: scene.id, ground: { kind: 'none' } }),
          )
        }
      />
    ),
  };
}
