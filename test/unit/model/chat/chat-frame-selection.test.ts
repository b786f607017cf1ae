import { describe, expect, it } from 'vitest';
import { CHAT_MAX_FRAMES, chooseChatFrames } from '../../../../main/model/chat/frame-selection';

const flags = (n: number, marked: number[] = []): boolean[] =>
  Array.from({ length: n }, (_, i) => marked.includes(i));

describe('chooseChatFrames', () => {
  it('keeps every frame up to the cap of 8', () => {
    expect(CHAT_MAX_FRAMES).toBe(8);
    expect(chooseChatFrames(flags(5, [3]))).toEqual([0, 1, 2, 3, 4]);
    expect(chooseChatFrames(flags(8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('sends marked frames first, then evenly spaced ones, in video order', () => {
    // 30 frames, markers on 13 and 29: both kept, 6 more spread over the other 28 (first and last included).
    const chosen = chooseChatFrames(flags(30, [13, 29]));
    expect(chosen).toHaveLength(8);
    expect(chosen).toContain(13);
    expect(chosen).toContain(29);
    expect(chosen).toEqual([...chosen].sort((a, b) => a - b));
    expect(new Set(chosen).size).toBe(8);
    expect(chosen).toEqual([0, 5, 11, 13, 17, 23, 28, 29]);
  });

  it('drops marked frames beyond the cap and spaces unmarked ones evenly without markers', () => {
    expect(chooseChatFrames(flags(20, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(chooseChatFrames(flags(15))).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    // One free slot: the middle of the unmarked frames.
    expect(chooseChatFrames(flags(10, [4]), 2)).toEqual([4, 5]);
  });
});
