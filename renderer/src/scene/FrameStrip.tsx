import type { CameraInfo, FrameInfo } from '../../../main/common/domain';
import { blobPaths } from '../../../main/common/api';
import { useStudio } from '../common/studio-context';
import './editing/editing.css';

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
  frames: FrameInfo[];
  cameras: CameraInfo[];
  activeFrameId: string | null;
  onActivate(frameId: string | null): void;
  visibility?: FrameVisibility | null;
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

/** The scene's frames; the ones picked for reconstruction are marked, skipped ones (blurry, duplicate) dimmed. */
export function FrameStrip({ frames, cameras, activeFrameId, onActivate, visibility }: FrameStripProps) {
  const { client } = useStudio();
  const selected = frames.filter((frame) => frame.selected).length;
  // Points carry the frame index of their camera; cameras name their frame by id where known.
  const cameraIndexOf = (frame: FrameInfo): number | undefined =>
    (
      cameras.find((camera) => camera.frameId === frame.id) ??
      cameras.find((camera) => !camera.frameId && camera.frameIndex === frame.index)
    )?.frameIndex;
  const hidden = new Set(visibility?.hidden ?? []);
  return (
    <div className="frame-strip" data-testid="frame-strip">
      <div className="frame-strip-label">
        <strong>{frames.length}</strong> frames · <strong>{selected}</strong> selected
        {hidden.size > 0 && (
          <>
            {' '}
            · <strong data-testid="hidden-frame-count">{hidden.size}</strong> hidden
          </>
        )}
      </div>
      <div className="frame-strip-items">
        {frames.map((frame) => {
          const cameraIndex = cameraIndexOf(frame);
          const isHidden = cameraIndex !== undefined && hidden.has(cameraIndex);
          return (
            <div
              key={frame.id}
              className={`frame-cell${isHidden ? ' hidden-frame' : ''}`}
              data-testid="frame-cell"
              data-hidden={isHidden}
            >
              <button
                className={`frame-item${frame.selected ? ' selected' : ' skipped'}${frame.id === activeFrameId ? ' active' : ''}`}
                data-testid="frame-thumb"
                data-selected={frame.selected}
                title={`Frame ${frame.index}${frame.timestampS !== null ? ` at ${frame.timestampS.toFixed(2)} s` : ''} · sharpness ${frame.blurScore.toFixed(0)}${frame.selected ? '' : ' · not selected'}${isHidden ? ' · points hidden' : ''}`}
                onClick={() => onActivate(frame.id === activeFrameId ? null : frame.id)}
              >
                <img
                  src={client.blobUrl(blobPaths.frameThumb(frame.id))}
                  alt={`Frame ${frame.index}`}
                  loading="lazy"
                  draggable={false}
                />
                <span className="frame-index">{frame.index}</span>
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
