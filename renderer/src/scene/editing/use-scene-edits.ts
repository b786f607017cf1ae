// A scene's edit stack as the viewer uses it: the SceneEditState from the core
// and the keep mask it leaves, loaded as bytes. Every tool (filter, crop,
// selections, frame visibility, voxel) changes the scene only through push,
// and undo/redo go through the core too, so the stored stack is the truth and
// survives a restart. The scale and ground tools change the stack through
// scenes.setScale/setGround; the core announces that ('edits' part) and the
// stack is read again, in turn with the calls made here.

import { useCallback, useEffect, useRef, useState } from 'react';
import { blobPaths } from '../../../../main/common/api';
import type { SceneEditState } from '../../../../main/common/domain';
import type { Edit } from '../../../../main/common/edit-stack';
import { asStudioError } from '../../api/client';
import { useStudio, useStudioEvents } from '../../common/studio-context';

export interface SceneEdits {
  state: SceneEditState | null;
  /** 1 = kept, one byte per point of the edited cloud (see state.cloud); null until loaded. */
  keep: Uint8Array | null;
  /** The revision `keep` belongs to: it lags state.revision while the new mask loads. */
  keepRevision: string | null;
  /** A push/undo/redo is in flight or queued (buttons that would push the same edit twice wait). */
  busy: boolean;
  push(edit: Edit): Promise<boolean>;
  undo(): Promise<boolean>;
  redo(): Promise<boolean>;
  reload(): void;
}

/** `enabled` false (no points yet) loads nothing. `version` (the points' content key) reloads when the base cloud changes. */
export function useSceneEdits(sceneId: string, enabled: boolean, version: string): SceneEdits {
  const { client, showError } = useStudio();
  const [state, setState] = useState<SceneEditState | null>(null);
  const [loadedKeep, setKeep] = useState<{ revision: string; mask: Uint8Array } | null>(null);
  const [busy, setBusy] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    client.call('edits.get', { sceneId }).then(
      (next) => live && setState(next),
      (error: unknown) => live && showError(error),
    );
    return () => {
      live = false;
    };
  }, [client, sceneId, enabled, version, reloads, showError]);

  const revision = state?.revision;
  useEffect(() => {
    if (!revision) return;
    const abort = new AbortController();
    client.fetchBlob(blobPaths.editKeep(sceneId, revision), abort.signal).then(
      (bytes) => {
        if (!abort.signal.aborted) setKeep({ revision, mask: new Uint8Array(bytes) });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) showError(error);
      },
    );
    return () => abort.abort();
  }, [client, sceneId, revision, showError]);

  // Calls run one after another in the order the user made them: an undo
  // pressed while a push is still in flight waits for it instead of being lost.
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const pending = useRef(0);
  const run = useCallback(
    (call: () => Promise<SceneEditState>, report: (error: unknown) => void = showError): Promise<boolean> => {
      pending.current += 1;
      setBusy(true);
      const done = queue.current.then(async () => {
        try {
          setState(await call());
          return true;
        } catch (error) {
          report(error);
          return false;
        } finally {
          pending.current -= 1;
          if (pending.current === 0) setBusy(false);
        }
      });
      queue.current = done;
      return done;
    },
    [showError],
  );

  // Changed elsewhere (a scale or a levelling set by a tool, another window): read it again,
  // queued behind the calls in flight so an older answer never lands after a newer one.
  useStudioEvents((event) => {
    if (
      enabled &&
      event.type === 'scenes-changed' &&
      event.sceneId === sceneId &&
      event.parts?.includes('edits')
    ) {
      // A scene deleted meanwhile is the scene view's to report ("Scene not found").
      void run(
        () => client.call('edits.get', { sceneId }),
        (error) => asStudioError(error).code !== 'not-found' && showError(error),
      );
    }
  });

  // Without points there is no stack to show; a stale state from before is hidden, not cleared.
  const current = enabled ? state : null;
  const keep = current && loadedKeep?.mask.length === current.pointCount ? loadedKeep : null;
  return {
    state: current,
    keep: keep?.mask ?? null,
    keepRevision: keep?.revision ?? null,
    busy,
    push: useCallback(
      (edit: Edit) => run(() => client.call('edits.push', { sceneId, edit })),
      [run, client, sceneId],
    ),
    undo: useCallback(() => run(() => client.call('edits.undo', { sceneId })), [run, client, sceneId]),
    redo: useCallback(() => run(() => client.call('edits.redo', { sceneId })), [run, client, sceneId]),
    reload: useCallback(() => setReloads((n) => n + 1), []),
  };
}
