// Which way is up in an exported file, named once for the API schema, the CLI's
// --up-axis, the Export menu and the PLY header (main/core/pointcloud/axes.ts
// does the rotations).
//
// The engine's world is OpenCV axes (y down), so a PLY opened as-is in MeshLab
// or CloudCompare shows the scene upside down; 'y-up' (x right, y up, z
// backward: the glTF convention) and 'z-up' (x right, y forward, z up: Blender,
// CloudCompare, most GIS tools) are proper rotations of it. PLY exports default
// to 'opencv' (what COLMAP and Open3D users expect, and what earlier versions
// wrote); GLB is always 'y-up' because the glTF specification fixes it.

export const UP_AXES = ['opencv', 'y-up', 'z-up'] as const;
export type UpAxis = (typeof UP_AXES)[number];

/** What a PLY export writes when no up axis is asked for. */
export const DEFAULT_PLY_UP_AXIS: UpAxis = 'opencv';

/** The axes in words; also written into the PLY header's comment, so readers of our files can tell. */
export const UP_AXIS_DESCRIPTIONS: Record<UpAxis, string> = {
  opencv: 'OpenCV axes: x right, y down, z forward',
  'y-up': 'y-up axes: x right, y up, z backward',
  'z-up': 'z-up axes: x right, y forward, z up',
};
