// Mark: click a point of the cloud to mark it for a question ("the red point");
// the Q&A panel owns the markers (SceneView), this tool only picks.

import type { Vec3 } from '../levelled-world';
import type { ToolEnv, ViewerTool } from '../viewer-tool';

export function useMarkTool(env: ToolEnv, onMarkPoint: (point: Vec3) => void): ViewerTool {
  return {
    pointer: {
      onClick: (pointer) => {
        const point = env.pickAt(pointer);
        if (point) onMarkPoint(point);
      },
    },
  };
}
