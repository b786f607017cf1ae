// Routes pointer events on the viewer's canvas to the active tool before the
// orbit controls see them. Listeners run in the capture phase on the element
// R3F and the controls listen on, so a tool that takes a press (a handle, a
// selection drag) stops it there and the camera never starts to move; picks
// let presses through and act on a click (press and release in one place).

import { useEffect, useRef } from 'react';
import type { CanvasState } from './canvas-bridge';

export interface CanvasPointer {
  /** CSS pixels from the canvas's top-left corner. */
  x: number;
  y: number;
  shiftKey: boolean;
}

export interface CanvasPointerHandlers {
  /** True: the tool takes this press (the drag is the tool's, not the camera's). */
  onPress(pointer: CanvasPointer): boolean;
  onDrag(pointer: CanvasPointer): void;
  onRelease(pointer: CanvasPointer): void;
  /** A press and release within a few pixels that no tool took. */
  onClick(pointer: CanvasPointer): void;
  /** The drag ended without a release (pointer lost, cancelled). */
  onCancel(): void;
}

const CLICK_SLOP_PX = 4;

interface ControlsLike {
  enabled: boolean;
}

export function useCanvasPointer(get: CanvasState | null, handlers: CanvasPointerHandlers): void {
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    if (!get) return;
    const state = get();
    const canvas = state.gl.domElement;
    const element = (state.events.connected as HTMLElement | undefined) ?? canvas;
    let taken: number | null = null;
    let press: { id: number; x: number; y: number } | null = null;
    const locate = (event: PointerEvent): CanvasPointer => {
      const rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top, shiftKey: event.shiftKey };
    };
    const setControls = (enabled: boolean) => {
      const controls = get().controls as unknown as ControlsLike | null;
      if (controls) controls.enabled = enabled;
    };
    const onDown = (event: PointerEvent) => {
      if (event.button !== 0 || taken !== null) return;
      const pointer = locate(event);
      if (latest.current.onPress(pointer)) {
        taken = event.pointerId;
        event.stopPropagation();
        event.preventDefault();
        element.setPointerCapture(event.pointerId);
        setControls(false);
      } else {
        press = { id: event.pointerId, x: pointer.x, y: pointer.y };
      }
    };
    const onMove = (event: PointerEvent) => {
      if (event.pointerId !== taken) return;
      event.stopPropagation();
      latest.current.onDrag(locate(event));
    };
    const onUp = (event: PointerEvent) => {
      if (event.pointerId === taken) {
        taken = null;
        event.stopPropagation();
        if (element.hasPointerCapture(event.pointerId)) element.releasePointerCapture(event.pointerId);
        setControls(true);
        latest.current.onRelease(locate(event));
        return;
      }
      if (press && press.id === event.pointerId) {
        const pointer = locate(event);
        const moved = Math.hypot(pointer.x - press.x, pointer.y - press.y);
        press = null;
        if (moved <= CLICK_SLOP_PX) latest.current.onClick(pointer);
      }
    };
    const onCancel = (event: PointerEvent) => {
      if (event.pointerId === taken) {
        taken = null;
        setControls(true);
        latest.current.onCancel();
      }
      press = null;
    };
    element.addEventListener('pointerdown', onDown, true);
    element.addEventListener('pointermove', onMove, true);
    element.addEventListener('pointerup', onUp, true);
    element.addEventListener('pointercancel', onCancel, true);
    return () => {
      element.removeEventListener('pointerdown', onDown, true);
      element.removeEventListener('pointermove', onMove, true);
      element.removeEventListener('pointerup', onUp, true);
      element.removeEventListener('pointercancel', onCancel, true);
      setControls(true);
    };
  }, [get]);
}
