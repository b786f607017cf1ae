// Markers live in displayed-frame pixels (FrameInfo width/height, rotation
// applied): that is what the core draws onto the frame the model sees and what
// the evidence looks up in the point maps. The editor shows the frame scaled to
// fit, so clicks are converted from the <img>'s on-screen box to frame pixels.

import type { Marker, MarkerColor } from '../../../main/common/domain';

export interface FrameSize {
  width: number;
  height: number;
}

export interface ScreenBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The frame pixel under a click on the displayed image, clamped inside the frame, to 0.1 px. */
export function framePixelAt(box: ScreenBox, clientX: number, clientY: number, frame: FrameSize) {
  const clamp = (value: number, max: number) => Math.min(max, Math.max(0, value));
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    x: round(clamp(((clientX - box.left) / box.width) * frame.width, frame.width)),
    y: round(clamp(((clientY - box.top) / box.height) * frame.height, frame.height)),
  };
}

/** Where a marker sits on the displayed image, as CSS percentages of the image box. */
export function markerPercent(marker: Marker, frame: FrameSize): { left: string; top: string } {
  return {
    left: `${(marker.x / frame.width) * 100}%`,
    top: `${(marker.y / frame.height) * 100}%`,
  };
}

/**
 * Place a marker: one point per colour (the question names points by colour),
 * so placing a colour again moves that point.
 */
export function placeMarker(markers: Marker[], marker: Marker): Marker[] {
  return [...markers.filter((item) => item.color !== marker.color), marker];
}

export function removeMarker(markers: Marker[], color: MarkerColor): Marker[] {
  return markers.filter((item) => item.color !== color);
}

/** The PIL colours the core draws markers with (main/model/chat/markers.ts): the dot shows what the model sees. */
export const MARKER_CSS: Record<MarkerColor, string> = {
  red: 'rgb(255, 0, 0)',
  blue: 'rgb(0, 0, 255)',
  green: 'rgb(0, 128, 0)',
  yellow: 'rgb(255, 255, 0)',
  purple: 'rgb(128, 0, 128)',
  orange: 'rgb(255, 165, 0)',
};
