// A scene's non-destructive edit stack (main/core/editing/scene-editor.ts).
// The stack also holds the scene's scale and levelling, so a push, an undo or
// a redo can change the scene's summary: then a 'meta' change is announced,
// and viewers refetch the scene (its metresPerUnit, its groundAlignment).

import type { SceneEditState } from '../../common/domain';
import type { HandlerContext, HandlerGroup } from './handler-context';

export function editHandlers({
  editor,
  library,
  emit,
}: HandlerContext): HandlerGroup<'edits.get' | 'edits.push' | 'edits.undo' | 'edits.redo'> {
  const settingsOf = (sceneId: string): string => {
    const summary = library.scenes.summary(sceneId);
    return JSON.stringify([summary?.metresPerUnit ?? null, summary?.groundAlignment ?? null]);
  };
  /** Runs a stack change and says so when it changed the scene's scale or levelling. */
  const announcingSettings = async (
    sceneId: string,
    change: () => Promise<SceneEditState>,
  ): Promise<SceneEditState> => {
    const before = settingsOf(sceneId);
    try {
      return await change();
    } finally {
      if (settingsOf(sceneId) !== before) emit({ type: 'scenes-changed', sceneId, parts: ['meta'] });
    }
  };
  return {
    'edits.get': async ({ sceneId }) => editor.state(sceneId),
    'edits.push': async ({ sceneId, edit }) => announcingSettings(sceneId, () => editor.push(sceneId, edit)),
    'edits.undo': async ({ sceneId }) => announcingSettings(sceneId, () => editor.undo(sceneId)),
    'edits.redo': async ({ sceneId }) => announcingSettings(sceneId, () => editor.redo(sceneId)),
  };
}
