// The Q&A markers of a scene (on frames and picked in 3D) kept in the
// browser's localStorage under the scene's id, so a page reload keeps the
// points a question is being written about. They are a draft of the user's
// own, not scene data: the core never sees them until a question is asked.

import { useEffect, useState } from 'react';
import { MARKER_COLORS, type Marker, type MarkerColor } from '../../../main/common/domain';
import { noQaMarkers, type PointMarker, type QaMarkers } from '../qa/qa-markers';

export const qaMarkersKey = (sceneId: string) => `g2studio.qa-markers.${sceneId}`;

const isColor = (value: unknown): value is MarkerColor =>
  typeof value === 'string' && (MARKER_COLORS as readonly string[]).includes(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/** Stored markers as far as they are well formed (a hand-edited or older entry loses only its bad items). */
export function parseQaMarkers(text: string | null): QaMarkers {
  if (!text) return noQaMarkers;
  let raw: Record<string, unknown>;
  try {
    raw = record(JSON.parse(text));
  } catch {
    return noQaMarkers;
  }
  const frame: Marker[] = (Array.isArray(raw.frame) ? raw.frame : [])
    .map(record)
    .flatMap((m) =>
      isColor(m.color) && isNumber(m.frameIndex) && isNumber(m.x) && isNumber(m.y)
        ? [{ color: m.color, frameIndex: m.frameIndex, x: m.x, y: m.y }]
        : [],
    );
  const points: PointMarker[] = (Array.isArray(raw.points) ? raw.points : [])
    .map(record)
    .flatMap((m) =>
      isColor(m.color) && Array.isArray(m.point) && m.point.length === 3 && m.point.every(isNumber)
        ? [{ color: m.color, point: [m.point[0], m.point[1], m.point[2]] as PointMarker['point'] }]
        : [],
    );
  return { frame, points };
}

function load(sceneId: string): QaMarkers {
  try {
    return parseQaMarkers(window.localStorage.getItem(qaMarkersKey(sceneId)));
  } catch {
    return noQaMarkers; // storage disabled: markers live for this page only
  }
}

export function useStoredQaMarkers(
  sceneId: string,
): [QaMarkers, (update: (current: QaMarkers) => QaMarkers) => void] {
  const [state, setState] = useState(() => ({ sceneId, markers: load(sceneId) }));
  // Another scene opened in the same view: its own markers.
  const current = state.sceneId === sceneId ? state.markers : load(sceneId);
  if (state.sceneId !== sceneId) setState({ sceneId, markers: current });
  useEffect(() => {
    try {
      const key = qaMarkersKey(state.sceneId);
      if (state.markers.frame.length === 0 && state.markers.points.length === 0)
        window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(state.markers));
    } catch {
      // Storage full or disabled: the markers still work for this page.
    }
  }, [state]);
  const update = (change: (markers: QaMarkers) => QaMarkers) =>
    setState((previous) => ({ sceneId: previous.sceneId, markers: change(previous.markers) }));
  return [current, update];
}
