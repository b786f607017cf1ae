// A scene's non-destructive edit stack (main/core/editing/scene-editor.ts).

import type { HandlerContext, HandlerGroup } from './handler-context';

export function editHandlers({
  editor,
}: HandlerContext): HandlerGroup<'edits.get' | 'edits.push' | 'edits.undo' | 'edits.redo'> {
  return {
    'edits.get': async ({ sceneId }) => editor.state(sceneId),
    'edits.push': async ({ sceneId, edit }) => editor.push(sceneId, edit),
    'edits.undo': async ({ sceneId }) => editor.undo(sceneId),
    'edits.redo': async ({ sceneId }) => editor.redo(sceneId),
  };
}
