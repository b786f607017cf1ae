// The Mark tool: a click on the cloud marks that point for a question (the
// Q&A panel names it by colour). The markers themselves are drawn by the
// viewer in every mode.

import type { Vec3 } from '../levelled-world';
import { pickAt, type ToolContext } from '../tool-context';
import type { ViewerTool } from '../tool-manager';

export function useMarkTool(context: ToolContext, onMarkPoint: (point: Vec3) => void): ViewerTool {
  return {
    onClick: (pointer) => {
      const point = pickAt(context, pointer);
      if (point) onMarkPoint(point);
    },
    cursor: 'crosshair',
  };
}
