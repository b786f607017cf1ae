// Frames from one physical camera should share one camera in COLMAP and one
// set of intrinsics in transforms.json. Intrinsics fitted per frame to the
// point maps (geometry/intrinsics.ts) come out equal only up to rounding (about
// 1e-10 apart for the same lens), so exact comparison would give every frame a
// camera of its own. Frames of the same image size whose focal lengths and
// principal points agree within SHARED_INTRINSICS_TOLERANCE (relative to the
// focal length) are given their group's mean intrinsics; a real change of lens
// or zoom differs by far more.

export const SHARED_INTRINSICS_TOLERANCE = 1e-4;

export interface PinholeCamera {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

function agree(a: PinholeCamera, b: PinholeCamera): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  const scale = SHARED_INTRINSICS_TOLERANCE * Math.max(Math.abs(a.fx), Math.abs(a.fy));
  return (
    Math.abs(a.fx - b.fx) <= scale &&
    Math.abs(a.fy - b.fy) <= scale &&
    Math.abs(a.cx - b.cx) <= scale &&
    Math.abs(a.cy - b.cy) <= scale
  );
}

/** Returns the cameras with intrinsics that agree within the tolerance made identical (group means). */
export function shareIntrinsics<C extends PinholeCamera>(cameras: C[]): C[] {
  const groups: C[][] = [];
  const groupOf = cameras.map((camera) => {
    // Compared with each group's first member, so a group cannot drift along a chain of small steps.
    let g = groups.findIndex((group) => agree(group[0], camera));
    if (g < 0) g = groups.push([]) - 1;
    groups[g].push(camera);
    return g;
  });
  const means = groups.map((group) => {
    const mean = (key: 'fx' | 'fy' | 'cx' | 'cy'): number =>
      group.reduce((sum, c) => sum + c[key], 0) / group.length;
    return { fx: mean('fx'), fy: mean('fy'), cx: mean('cx'), cy: mean('cy') };
  });
  return cameras.map((camera, i) => ({ ...camera, ...means[groupOf[i]] }));
}
