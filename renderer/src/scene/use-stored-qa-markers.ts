// The Q&A markers of a scene (on frames and picked in 3D) kept in the
// browser's localStorage under the scene's id, so a page reload keeps the
// points a question is being written about. They are a draft of the user's
// own, not scene data: the core never sees them until a question is asked.

import { useCallback, useEffect, useState } from 'react';
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

/** Drafts kept at most: the scenes whose markers were changed last (a deleted scene's draft ages out). */
export const MAX_STORED_DRAFTS = 50;

function load(sceneId: string): QaMarkers {
  try {
    return parseQaMarkers(window.localStorage.getItem(qaMarkersKey(sceneId)));
  } catch {
    return noQaMarkers; // storage disabled: markers live for this page only
  }
}

/** When a stored draft was written (0 for an entry without the stamp). */
function savedAt(text: string | null): number {
  try {
    const value = record(JSON.parse(text ?? 'null')).savedAt;
    return isNumber(value) ? value : 0;
  } catch {
    return 0;
  }
}

/** Drops the oldest drafts beyond MAX_STORED_DRAFTS, so storage stays bounded as scenes come and go. */
function pruneDrafts(storage: Storage): void {
  const prefix = qaMarkersKey('');
  const drafts: Array<{ key: string; at: number }> = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key?.startsWith(prefix)) drafts.push({ key, at: savedAt(storage.getItem(key)) });
  }
  drafts.sort((a, b) => b.at - a.at);
  for (const { key } of drafts.slice(MAX_STORED_DRAFTS)) storage.removeItem(key);
}

function store(sceneId: string, markers: QaMarkers): void {
  try {
    const storage = window.localStorage;
    const key = qaMarkersKey(sceneId);
    if (markers.frame.length === 0 && markers.points.length === 0) {
      storage.removeItem(key);
      return;
    }
    storage.setItem(key, JSON.stringify({ ...markers, savedAt: Date.now() }));
    pruneDrafts(storage);
  } catch {
    // Storage full or disabled: the markers still work for this page.
  }
}

/** The scene's markers (as last stored for it) and a way to change them; every change is stored. */
export function useStoredQaMarkers(
  sceneId: string,
): [QaMarkers, (update: (current: QaMarkers) => QaMarkers) => void] {
  const [state, setState] = useState(() => ({ sceneId, markers: load(sceneId) }));
  // Another scene opened in the same view: its own markers.
  const current = state.sceneId === sceneId ? state.markers : load(sceneId);
  if (state.sceneId !== sceneId) setState({ sceneId, markers: current });
  // Also on opening: the draft's stamp is its last use, so the drafts kept are the recent ones.
  useEffect(() => store(state.sceneId, state.markers), [state]);
  // Stable, so the views that take it do not re-render for a new function each time.
  const update = useCallback(
    (change: (markers: QaMarkers) => QaMarkers) =>
      setState((previous) => ({ sceneId: previous.sceneId, markers: change(previous.markers) })),
    [],
  );
  return [current, update];
}
