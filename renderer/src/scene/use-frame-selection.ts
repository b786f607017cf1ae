// Changing which frames the next reconstruction uses, from the frame strip:
// toggle one frame, or run the automatic selection again with a count. The
// core answers with the scene as it now is, handed straight to the view (the
// scenes-changed event that follows refetches it too, for other windows).

import { useCallback, useState } from 'react';
import type { SceneDetail } from '../../../main/common/domain';
import { useStudio } from '../common/studio-context';

export interface FrameSelectionActions {
  /** A selection change is on its way to the core (the strip waits for it). */
  pending: boolean;
  setSelected(frameId: string, selected: boolean): void;
  reselect(count: number): void;
}

export function useFrameSelection(
  sceneId: string,
  onScene: (scene: SceneDetail) => void,
): FrameSelectionActions {
  const { client, showError } = useStudio();
  const [pending, setPending] = useState(false);
  const send = useCallback(
    (request: () => Promise<SceneDetail>) => {
      setPending(true);
      request()
        .then(onScene, showError)
        .finally(() => setPending(false));
    },
    [onScene, showError],
  );
  return {
    pending,
    setSelected: useCallback(
      (frameId, selected) =>
        send(() => client.call('scenes.selectFrames', { sceneId, frameIds: [frameId], selected })),
      [client, sceneId, send],
    ),
    reselect: useCallback(
      (count) => send(() => client.call('scenes.reselectFrames', { sceneId, count })),
      [client, sceneId, send],
    ),
  };
}
