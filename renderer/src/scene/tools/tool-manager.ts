// The viewer's tool manager: one ViewerTool per mode (./crop, ./selection,
// ./measure, ./ground, ./mark), of which exactly one is active. Switching
// deactivates the old tool and activates the new one (as SuperSplat's tools
// do); pointer presses on the canvas, keys and the cursor go to the active tool.

import { useCallback, useEffect, useRef, useState, type ReactNode, type RefObject } from 'react';
import type { CanvasState } from './canvas-bridge';
import type { ToolMode } from './tool-modes';
import { useCanvasPointer, type CanvasPointer } from './use-canvas-pointer';

export interface ViewerTool {
  /** It became the active tool. */
  activate?(): void;
  /** It stops being the active tool; `next` takes over (a tool serving two modes may keep some state). */
  deactivate?(next: ToolMode): void;
  /** True: the tool takes this press (the drag is the tool's, not the camera's). */
  onPress?(pointer: CanvasPointer): boolean;
  onDrag?(pointer: CanvasPointer): void;
  onRelease?(pointer: CanvasPointer): void;
  /** A press and release in one place that no tool took. */
  onClick?(pointer: CanvasPointer): void;
  onCancel?(): void;
  /** A key while the tool is active (never while typing in a field); true: handled. */
  onKey?(event: KeyboardEvent): boolean;
  /** The canvas cursor while active ('' = the default). */
  cursor?: string;
  /** Drawn inside the Canvas while active, in stored (OpenCV) coordinates. */
  canvasContent?: ReactNode;
  /** Drawn over the viewport under the toolbar while active (an outline being drawn). */
  overlay?: ReactNode;
  /** The tool's panel while active. */
  panel?: ReactNode;
}

export type ToolRegistry = Record<ToolMode, ViewerTool>;

const isTyping = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export interface ToolModeState {
  mode: ToolMode;
  /** Deactivates the active tool, activates `next`. */
  setMode(next: ToolMode): void;
  /** The tools of the latest render (useToolRouting keeps it). */
  registryRef: RefObject<ToolRegistry | null>;
}

/** The active mode and its switch; the tools register afterwards (they may call setMode). */
export function useToolMode(): ToolModeState {
  const [mode, setModeState] = useState<ToolMode>('orbit');
  const registryRef = useRef<ToolRegistry | null>(null);
  const current = useRef<ToolMode>('orbit');
  const setMode = useCallback((next: ToolMode) => {
    const tools = registryRef.current;
    tools?.[current.current].deactivate?.(next);
    tools?.[next].activate?.();
    current.current = next;
    setModeState(next);
  }, []);
  return { mode, setMode, registryRef };
}

/**
 * Routes the canvas pointer, keys and cursor to the active tool. Esc leaves
 * any tool for orbit unless the tool handles it first.
 */
export function useToolRouting(state: ToolModeState, tools: ToolRegistry, canvas: CanvasState | null): void {
  const { mode, setMode, registryRef } = state;
  useEffect(() => {
    registryRef.current = tools;
  });
  const active = tools[mode];

  useCanvasPointer(canvas, {
    onPress: (pointer) => active.onPress?.(pointer) ?? false,
    onDrag: (pointer) => active.onDrag?.(pointer),
    onRelease: (pointer) => active.onRelease?.(pointer),
    onClick: (pointer) => active.onClick?.(pointer),
    onCancel: () => active.onCancel?.(),
  });

  // The cursor says what a press will do.
  const cursor = active.cursor ?? '';
  useEffect(() => {
    if (!canvas) return;
    const element = canvas().gl.domElement;
    element.style.cursor = cursor;
    return () => {
      element.style.cursor = '';
    };
  }, [canvas, cursor]);

  // Bound once; reads the active tool of the latest render.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    onKey.current = (event: KeyboardEvent) => {
      if (isTyping(event.target)) return;
      // Undo/redo keys belong to the edit panel (useEditShortcuts).
      if (active.onKey?.(event)) return;
      if (event.key === 'Escape') setMode('orbit');
    };
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}
