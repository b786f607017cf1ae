// Which frames a question shows the model: at most CHAT_MAX_FRAMES, because the
// released model is reported to degrade beyond 8 views and the prefill grows
// with every frame. Frames that carry a marker go first (the question is about
// them), then frames evenly spaced over the rest, so the views still span the
// whole video. The chosen frames keep their video order.

export const CHAT_MAX_FRAMES = 8;

/**
 * Positions (into `marked`, one flag per candidate frame in video order) of the
 * frames to send, ascending. Marked frames beyond the cap are dropped from the
 * end; unmarked ones fill the remaining slots at evenly spaced positions.
 */
export function chooseChatFrames(marked: readonly boolean[], cap: number = CHAT_MAX_FRAMES): number[] {
  if (!Number.isSafeInteger(cap) || cap < 1)
    throw new RangeError(`frame cap must be a positive integer, got ${cap}`);
  const withMarker = marked.flatMap((m, i) => (m ? [i] : []));
  const chosen = withMarker.slice(0, cap);
  const rest = marked.flatMap((m, i) => (m ? [] : [i]));
  const slots = Math.min(cap - chosen.length, rest.length);
  // Evenly spaced over the unmarked frames, first and last included when two or more fit.
  for (let k = 0; k < slots; k++) {
    const at =
      slots === 1 ? Math.floor((rest.length - 1) / 2) : Math.round((k * (rest.length - 1)) / (slots - 1));
    chosen.push(rest[at]);
  }
  return chosen.sort((a, b) => a - b);
}
