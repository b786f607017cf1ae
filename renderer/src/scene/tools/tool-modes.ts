// The viewer's tool modes. Orbit is the resting mode: every other tool is
// left with Esc and gives the mouse back to the camera.

export type ToolMode = 'orbit' | 'crop' | 'select' | 'lasso' | 'measure' | 'ground' | 'mark';

export const TOOL_MODES: ReadonlyArray<{ mode: ToolMode; label: string; title: string }> = [
  { mode: 'orbit', label: 'Orbit', title: 'Orbit, pan and zoom the view (Esc leaves any tool)' },
  { mode: 'crop', label: 'Crop', title: 'Crop to a box: drag its face handles, then Apply' },
  {
    mode: 'select',
    label: 'Select',
    title: 'Select points in a rectangle (Shift adds), then Delete or Keep',
  },
  { mode: 'lasso', label: 'Lasso', title: 'Select points inside a freehand outline (Shift adds)' },
  {
    mode: 'measure',
    label: 'Measure',
    title: 'Click two points for their distance; set the scene scale from it',
  },
  { mode: 'ground', label: 'Ground', title: 'Click 3+ points on the floor to stand the scene upright' },
  {
    mode: 'mark',
    label: 'Mark',
    title: 'Click a point to mark it for a question ("the red point"); needs a reconstruction',
  },
];

/** Tools that draw with a left drag: the camera must not orbit while they do. */
export const isDrawingTool = (mode: ToolMode): boolean => mode === 'select' || mode === 'lasso';

/** Tools that pick points with a click (a drag still orbits). */
export const isPickingTool = (mode: ToolMode): boolean =>
  mode === 'measure' || mode === 'ground' || mode === 'mark';
