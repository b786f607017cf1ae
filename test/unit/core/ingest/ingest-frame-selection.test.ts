// Frame choice on hand-made quality figures (the real-video path is covered in ingest-video.test.ts).
import { describe, expect, it } from 'vitest';
import {
  laplacianVariance,
  SIGNATURE_SIZE,
  signatureDifference,
} from '../../../../main/core/ingest/frame-quality';
import { selectFrames } from '../../../../main/core/ingest/frame-selection';

const signature = (level: number): Uint8Array => new Uint8Array(SIGNATURE_SIZE * SIGNATURE_SIZE).fill(level);

describe('laplacianVariance', () => {
  it('is zero on a flat image and large on a checkerboard', () => {
    expect(laplacianVariance(new Uint8Array(100).fill(7), 10, 10)).toBe(0);
    const checker = new Uint8Array(100).map((_, i) => (((i % 10) + Math.floor(i / 10)) % 2 ? 255 : 0));
    // Interior Laplacian is ±1020 everywhere: variance 1020².
    expect(laplacianVariance(checker, 10, 10)).toBeCloseTo(1020 * 1020, 0);
  });
});

describe('selectFrames', () => {
  it('keeps every frame when there are no more than asked for', () => {
    expect(selectFrames([{ blurScore: 1, signature: signature(0) }], 3)).toEqual([true]);
  });

  it('takes one frame per time slice, the sharpest one', () => {
    const scores = [10, 50, 20, 30, 40, 90];
    const picks = selectFrames(
      scores.map((blurScore, i) => ({ blurScore, signature: signature(i * 20) })),
      2,
    );
    expect(picks).toEqual([false, true, false, false, false, true]);
  });

  it('skips a near-duplicate of the previous pick when the slice has another usable frame', () => {
    const candidates = [
      { blurScore: 100, signature: signature(10) },
      { blurScore: 95, signature: signature(10) }, // same view as the first pick, sharper than its neighbour
      { blurScore: 80, signature: signature(60) },
    ];
    expect(selectFrames(candidates, 2)).toEqual([true, false, true]);
    expect(signatureDifference(candidates[0].signature, candidates[1].signature)).toBe(0);
  });

  it('prefers a duplicate over a blurry frame, and still returns the number asked for', () => {
    const candidates = [
      { blurScore: 100, signature: signature(10) },
      { blurScore: 100, signature: signature(10) },
      { blurScore: 5, signature: signature(200) },
      { blurScore: 100, signature: signature(10) },
    ];
    const picks = selectFrames(candidates, 2);
    expect(picks.filter(Boolean)).toHaveLength(2);
    expect(picks[2]).toBe(false);
  });

  it('keeps a much sharper frame even when it repeats the previous view (sharpness 1163 against 111)', () => {
    const candidates = [
      { blurScore: 400, signature: signature(10) },
      { blurScore: 100, signature: signature(200) },
      { blurScore: 1163, signature: signature(11) }, // the same view as the first pick, far sharper
      { blurScore: 111, signature: signature(60) },
      { blurScore: 105, signature: signature(120) },
      { blurScore: 90, signature: signature(180) },
    ];
    expect(signatureDifference(candidates[0].signature, candidates[2].signature)).toBeLessThan(1.5);
    expect(selectFrames(candidates, 3)).toEqual([true, false, true, false, true, false]);
  });
});
