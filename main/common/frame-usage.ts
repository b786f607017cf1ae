// How a scene's frame selection stands against its reconstruction: which
// frames the reconstruction was made from, and whether the selection has moved
// on since (then the next Reconstruct uses the new selection). One definition
// for the viewer's frame strip and the CLI's `frames` command.

import type { SceneDetail } from './domain';

export interface FrameUsage {
  selectedCount: number;
  /** Ids of the frames the current reconstruction used (empty without one). */
  used: ReadonlySet<string>;
  /** Selected now but not used by the reconstruction. */
  added: number;
  /** Used by the reconstruction but not selected now. */
  removed: number;
  /** A reconstruction exists and the selection differs from the frames it used. */
  outOfDate: boolean;
}

export function frameUsage(scene: Pick<SceneDetail, 'frames' | 'reconstruction'>): FrameUsage {
  // Only frames the scene still has count (a posed capture's ids, say, always match).
  const known = new Set(scene.frames.map((frame) => frame.id));
  const used = new Set((scene.reconstruction?.usedFrameIds ?? []).filter((id) => known.has(id)));
  let selectedCount = 0;
  let added = 0;
  let removed = 0;
  for (const frame of scene.frames) {
    if (frame.selected) selectedCount++;
    if (frame.selected && !used.has(frame.id)) added++;
    if (!frame.selected && used.has(frame.id)) removed++;
  }
  // A reconstruction whose frames are not known (used is empty) cannot be compared.
  const outOfDate = scene.reconstruction !== null && used.size > 0 && added + removed > 0;
  return { selectedCount, used, added, removed, outOfDate };
}
