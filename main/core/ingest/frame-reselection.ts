// Re-running the automatic frame selection over a scene's stored frames with a
// new count, by the same rules as the import that stored them: video frames
// with selectFrames (sharpest per stretch of time, near-duplicates traded for
// fresh views), photos with selectSharpestPerGroup. Nothing is decoded again
// from the source: blur scores are stored, and the near-duplicate signatures
// are measured again on the stored frames, which is what the model sees.

import type { SceneKind } from '../../common/domain';
import { StudioError } from '../../common/errors';
import type { FrameQuality } from './frame-quality';
import { signatureOfEncodedFrame } from './frame-quality';
import { selectFrames, selectSharpestPerGroup } from './frame-selection';

/** A stored frame as the selection needs it, in frame (time or name) order. */
export interface SelectableFrame {
  id: string;
  blurScore: number;
}

/** Frames measured at once: enough to keep sharp's threads busy, few encoded images in memory. */
const SIGNATURE_CONCURRENCY = 4;

/**
 * Which of `frames` (in order) the automatic selection picks for `count`.
 * `readImage` gives a stored frame's encoded image; it is read one frame at a
 * time per worker, so memory holds at most SIGNATURE_CONCURRENCY images.
 */
export async function reselectFrames(
  kind: SceneKind,
  frames: readonly SelectableFrame[],
  count: number,
  readImage: (frameId: string) => Buffer | null,
): Promise<boolean[]> {
  if (!Number.isInteger(count) || count < 2) {
    throw new StudioError(
      'invalid-input',
      `A frame count must be a whole number of at least two (got ${count}).`,
      'Ask for at least two frames.',
    );
  }
  if (frames.length <= count) return frames.map(() => true);
  if (kind !== 'video')
    return selectSharpestPerGroup(
      frames.map((frame) => frame.blurScore),
      count,
    );
  const signatures = new Array<Uint8Array>(frames.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < frames.length) {
      const i = next++;
      const image = readImage(frames[i].id);
      if (!image) {
        throw new StudioError(
          'not-found',
          `Frame ${frames[i].id} vanished while the selection was being made.`,
          'Open the scene again and retry.',
        );
      }
      signatures[i] = await signatureOfEncodedFrame(image);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SIGNATURE_CONCURRENCY, frames.length) }, worker));
  const candidates: FrameQuality[] = frames.map((frame, i) => ({
    blurScore: frame.blurScore,
    signature: signatures[i],
  }));
  return selectFrames(candidates, count);
}
