import { blobPaths } from '../../../main/common/api';
import type { FrameInfo } from '../../../main/common/domain';
import { useStudio } from '../common/studio-context';

interface FrameStripProps {
  frames: FrameInfo[];
  activeFrameId: string | null;
  onActivate(frameId: string | null): void;
}

/** The scene's frames; the ones picked for reconstruction are marked, skipped ones (blurry, duplicate) dimmed. */
export function FrameStrip({ frames, activeFrameId, onActivate }: FrameStripProps) {
  const { client } = useStudio();
  const selected = frames.filter((frame) => frame.selected).length;
  return (
    <div className="frame-strip" data-testid="frame-strip">
      <div className="frame-strip-label">
        <strong>{frames.length}</strong> frames · <strong>{selected}</strong> selected
      </div>
      <div className="frame-strip-items">
        {frames.map((frame) => (
          <button
            key={frame.id}
            className={`frame-item${frame.selected ? ' selected' : ' skipped'}${frame.id === activeFrameId ? ' active' : ''}`}
            data-testid="frame-thumb"
            data-selected={frame.selected}
            title={`Frame ${frame.index}${frame.timestampS !== null ? ` at ${frame.timestampS.toFixed(2)} s` : ''} · sharpness ${frame.blurScore.toFixed(0)}${frame.selected ? '' : ' · not selected'}`}
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
        ))}
      </div>
    </div>
  );
}
