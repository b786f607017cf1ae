// The points a question refers to: markers placed on a frame's image, and
// markers picked on the 3D cloud (the core draws each on the frame that sees
// it, geometry/point-marker.ts). One point per colour across both, since the
// question names points by colour.

import { MARKER_COLORS, type Marker, type MarkerColor } from '../../../main/common/domain';

export interface PointMarker {
  color: MarkerColor;
  /** Scene units, the stored OpenCV world (what pickPoint returns). */
  point: [number, number, number];
}

export interface QaMarkers {
  frame: Marker[];
  points: PointMarker[];
}

export const noQaMarkers: QaMarkers = { frame: [], points: [] };

export const usedColors = (markers: QaMarkers): MarkerColor[] => [
  ...markers.frame.map((m) => m.color),
  ...markers.points.map((m) => m.color),
];

/** The first colour no point uses yet (red, blue, …); null when all six are taken. */
export function nextFreeColor(markers: QaMarkers): MarkerColor | null {
  const used = usedColors(markers);
  return MARKER_COLORS.find((color) => !used.includes(color)) ?? null;
}

/** Frame markers as the editor changed them; a colour now on a frame leaves the 3D list. */
export function withFrameMarkers(markers: QaMarkers, frame: Marker[]): QaMarkers {
  const onFrames = new Set(frame.map((m) => m.color));
  return { frame, points: markers.points.filter((m) => !onFrames.has(m.color)) };
}

/** A 3D point in the next free colour (or moving `color` there); a frame marker of that colour goes. */
export function withPointMarker(
  markers: QaMarkers,
  point: PointMarker['point'],
  color?: MarkerColor,
): QaMarkers {
  const chosen = color ?? nextFreeColor(markers);
  if (!chosen) return markers;
  return {
    frame: markers.frame.filter((m) => m.color !== chosen),
    points: [...markers.points.filter((m) => m.color !== chosen), { color: chosen, point }],
  };
}

export function withoutPointMarker(markers: QaMarkers, color: MarkerColor): QaMarkers {
  return { ...markers, points: markers.points.filter((m) => m.color !== color) };
}
