import { useEffect, useRef, useState } from 'react';
import { blobPaths } from '../../../main/common/api';
import { useStudio } from '../common/studio-context';

const CHOICES = [
  { id: 'ply-binary', label: 'PLY (binary)', format: 'ply', encoding: 'binary' },
  { id: 'ply-ascii', label: 'PLY (ASCII)', format: 'ply', encoding: 'ascii' },
  { id: 'glb', label: 'GLB (points + cameras)', format: 'glb', encoding: undefined },
] as const;

/** Saves the file the core wrote: an <a download> pointing at the export blob. */
function download(url: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

export function ExportMenu({ sceneId, disabled }: { sceneId: string; disabled: boolean }) {
  const { client, showError } = useStudio();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);

  const exportAs = async (choice: (typeof CHOICES)[number]) => {
    setOpen(false);
    setBusy(true);
    try {
      const result = await client.call('scenes.export', {
        sceneId,
        format: choice.format,
        ...(choice.encoding ? { encoding: choice.encoding } : {}),
      });
      download(client.blobUrl(blobPaths.export(result.exportId)), result.fileName);
    } catch (error) {
      showError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="menu" ref={root}>
      <button
        onClick={() => setOpen((value) => !value)}
        disabled={disabled || busy}
        title={disabled ? 'This scene has no points to export yet.' : 'Write the point cloud to a file'}
        data-testid="export-button"
        aria-haspopup="menu"
        aria-expanded={open}
      >
        {busy ? 'Exporting…' : 'Export ▾'}
      </button>
      {open && (
        <div className="menu-items" role="menu">
          {CHOICES.map((choice) => (
            <button
              key={choice.id}
              role="menuitem"
              onClick={() => void exportAs(choice)}
              data-testid={`export-${choice.id}`}
            >
              {choice.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
