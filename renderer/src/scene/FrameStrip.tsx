import { useRef, type KeyboardEvent } from 'react';
import { blobPaths } from '../../../main/common/api';
import type { FrameInfo, SceneDetail } from '../../../main/common/domain';
import { frameUsage } from '../../../main/common/frame-usage';
import { useStudio } from '../common/studio-context';
import './editing/editing.css';
import './frame-strip.css';
import { FrameSelectionBar } from './FrameSelectionBar';
import { useFrameSelection } from './use-frame-selection';

/** Showing and hiding frames' points (a hide-frames edit); absent where frames cannot be hidden. */
export interface FrameVisibility {
  /** CameraInfo.frameIndex of the hidden frames. */
  hidden: readonly number[];
  /** Why the eye toggles are off (e.g. after a voxel downsample), or null. */
  disabledReason: string | null;
  /** The whole new hidden set. */
  onChange(hidden: number[]): void;
}

interface FrameStripProps {
  scene: SceneDetail;
  activeFrameId: string | null;
  /** The frame whose camera the viewer highlights (the one hovered or focused), or null. */
  onActivate(frameId: string | null): void;
  visibility?: FrameVisibility | null;
  /** Why the selection cannot change now (a reconstruction holds it), or null. */
  selectionLockedReason: string | null;
  /** The scene after a selection change, as the core answered it. */
  onSceneChange(scene: SceneDetail): void;
}

function EyeIcon({ open }: { open: boolean }) {
  return (
    <svg width="14" height="10" viewBox="0 0 14 10" aria-hidden="true">
      <path d="M1 5 Q7 -1 13 5 Q7 11 1 5 Z" fill="none" stroke="currentColor" strokeWidth="1.3" />
      {open ? (
        <circle cx="7" cy="5" r="2" fill="currentColor" />
      ) : (
        <path d="M2 9 L12 1" stroke="currentColor" strokeWidth="1.5" />
      )}
    </svg>
  );
}

/** Focus moves by these many frames on these keys. */
const ARROW_STEPS: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/**
 * The scene's frames. Clicking one (or Space/Enter on it) selects or deselects
 * it for the next reconstruction; selected frames are framed and ticked, the
 * others dimmed, and the frames the current 3D was made from carry a "3D" tag.
 * Hovering or focusing a frame highlights its camera in the viewer.
 */
export function FrameStrip({
  scene,
  activeFrameId,
  onActivate,
  visibility,
  selectionLockedReason,
  onSceneChange,
}: FrameStripProps) {
  const { client } = useStudio();
  const { frames, cameras } = scene;
  const usage = frameUsage(scene);
  const selection = useFrameSelection(scene.id, onSceneChange);
  const items = useRef<HTMLDivElement>(null);
  // Points carry the frame index of their camera; cameras name their frame by id where known.
  const cameraIndexOf = (frame: FrameInfo): number | undefined =>
    (
      cameras.find((camera) => camera.frameId === frame.id) ??
      cameras.find((camera) => !camera.frameId && camera.frameIndex === frame.index)
    )?.frameIndex;
  const hidden = new Set(visibility?.hidden ?? []);
  const locked = selectionLockedReason !== null;
  /** Arrow keys move between frames (Home/End to the ends), as in any strip of thumbnails. */
  const moveFocus = (event: KeyboardEvent<HTMLButtonElement>): void => {
    const step = ARROW_STEPS[event.key] as number | undefined;
    const thumbs = [...(items.current?.querySelectorAll<HTMLButtonElement>('.frame-item') ?? [])];
    const at = thumbs.indexOf(event.currentTarget);
    const target = event.key === 'Home' ? 0 : event.key === 'End' ? thumbs.length - 1 : step ? at + step : -1;
    if (target < 0 || target >= thumbs.length || target === at) return;
    event.preventDefault();
    thumbs[target].focus();
    thumbs[target].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  };
  return (
    <div className="frame-strip" data-testid="frame-strip">
      <div className="frame-strip-label">
        <strong>{frames.length}</strong> frames ·{' '}
        <strong data-testid="selected-frame-count" data-count={usage.selectedCount}>
          {usage.selectedCount}
        </strong>{' '}
        selected
        {scene.reconstruction && usage.used.size > 0 && (
          <>
            {' '}
            · <strong>{usage.used.size}</strong> in the 3D
          </>
        )}
        {hidden.size > 0 && (
          <>
            {' '}
            · <strong data-testid="hidden-frame-count">{hidden.size}</strong> hidden
          </>
        )}
        {!locked && <span className="frame-strip-hint">Click a frame to select or deselect it.</span>}
        <FrameSelectionBar
          frameCount={frames.length}
          usage={usage}
          hasReconstruction={scene.reconstruction !== null}
          lockedReason={selectionLockedReason}
          pending={selection.pending}
          onReselect={selection.reselect}
        />
      </div>
      <div className="frame-strip-items" ref={items} role="group" aria-label="Frames">
        {frames.map((frame) => {
          const cameraIndex = cameraIndexOf(frame);
          const isHidden = cameraIndex !== undefined && hidden.has(cameraIndex);
          const used = usage.used.has(frame.id);
          return (
            <div
              key={frame.id}
              className={`frame-cell${isHidden ? ' hidden-frame' : ''}`}
              data-testid="frame-cell"
              data-hidden={isHidden}
            >
              <button
                className={`frame-item${frame.selected ? ' selected' : ' skipped'}${used ? ' used' : ''}${frame.id === activeFrameId ? ' active' : ''}`}
                data-testid="frame-thumb"
                data-frame-id={frame.id}
                data-selected={frame.selected}
                data-used={used}
                aria-pressed={frame.selected}
                aria-disabled={locked || selection.pending}
                aria-label={`Frame ${frame.index}: ${frame.selected ? 'selected' : 'not selected'}${scene.reconstruction && usage.used.size > 0 ? (used ? ', used by the 3D' : ', not in the 3D') : ''}`}
                title={`Frame ${frame.index}${frame.timestampS !== null ? ` at ${frame.timestampS.toFixed(2)} s` : ''} · sharpness ${frame.blurScore.toFixed(0)} · ${frame.selected ? 'selected' : 'not selected'}${used ? ' · used by the 3D' : ''}${isHidden ? ' · points hidden' : ''}\n${selectionLockedReason ?? `Click to ${frame.selected ? 'deselect' : 'select'} it for the next reconstruction.`}`}
                onClick={() => {
                  if (!locked && !selection.pending) selection.setSelected(frame.id, !frame.selected);
                }}
                onKeyDown={moveFocus}
                onMouseEnter={() => onActivate(frame.id)}
                onMouseLeave={() => onActivate(null)}
                onFocus={() => onActivate(frame.id)}
                onBlur={() => onActivate(null)}
              >
                <img
                  src={client.blobUrl(blobPaths.frameThumb(frame.id))}
                  alt=""
                  loading="lazy"
                  draggable={false}
                />
                <span className="frame-index">{frame.index}</span>
                {frame.selected && (
                  <span className="frame-check" aria-hidden="true">
                    ✓
                  </span>
                )}
                {used && (
                  <span className="frame-used" aria-hidden="true">
                    3D
                  </span>
                )}
              </button>
              {visibility && cameraIndex !== undefined && (
                <button
                  className="frame-eye"
                  data-testid="frame-eye"
                  aria-pressed={!isHidden}
                  disabled={visibility.disabledReason !== null}
                  title={
                    visibility.disabledReason ??
                    (isHidden
                      ? `Show the points of frame ${frame.index}`
                      : `Hide the points of frame ${frame.index}`)
                  }
                  onClick={() =>
                    visibility.onChange(
                      isHidden
                        ? [...hidden].filter((index) => index !== cameraIndex)
                        : [...hidden, cameraIndex].sort((a, b) => a - b),
                    )
                  }
                >
                  <EyeIcon open={!isHidden} />
                </button>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
