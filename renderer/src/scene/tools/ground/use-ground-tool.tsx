// Ground: click three or more points on the floor, then Level stands the scene
// upright on that plane (a levelling transform stored with the scene).

import { useState } from 'react';
import { useStudio } from '../../../common/studio-context';
import type { Vec3 } from '../levelled-world';
import { PickMarkers } from '../PickMarkers';
import { useSceneCall } from '../use-scene-call';
import type { ToolEnv, ViewerTool } from '../viewer-tool';
import { GroundPanel } from './GroundPanel';

const GROUND_COLOR = '#44e0a0';

export function useGroundTool(env: ToolEnv): ViewerTool {
  const { client } = useStudio();
  const { scene } = env;
  const sceneCall = useSceneCall();
  const [points, setPoints] = useState<Vec3[]>([]);

  return {
    deactivate: () => setPoints([]),
    pointer: {
      onClick: (pointer) => {
        const point = env.pickAt(pointer);
        if (point) setPoints((current) => [...current, point]);
      },
    },
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
