import { useCallback, useEffect, useRef, useState } from 'react';
import type { PickedFolder } from '../../../main/common/api';
import type { SceneSummary } from '../../../main/common/domain';
import { ConfirmDialog } from '../common/ConfirmDialog';
import { useStudio, useStudioEvents } from '../common/studio-context';
import { foldersFromPickedFiles } from './folder-entries';
import { IMPORT_ACCEPT } from './import-files';
import { SceneCard } from './SceneCard';

interface LibraryViewProps {
  onOpen(sceneId: string): void;
  onImport(files: File[]): void;
  /** A folder picked in the page (web mode; Electron picks with the system dialog). */
  onImportFolders(folders: PickedFolder[]): void;
}

export function LibraryView({ onOpen, onImport, onImportFolders }: LibraryViewProps) {
  const { client, showError } = useStudio();
  const [scenes, setScenes] = useState<SceneSummary[] | null>(null);
  const [pendingDelete, setPendingDelete] = useState<SceneSummary | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);

  // React has no attribute for it: the browser's folder picker is a property of the input.
  useEffect(() => {
    if (folderPicker.current) folderPicker.current.webkitdirectory = true;
  }, []);

  const importFolder = async () => {
    if (!client.pickFolder) {
      folderPicker.current?.click();
      return;
    }
    try {
      const source = await client.pickFolder();
      if (source) await client.call('scenes.import', { sources: [source] });
    } catch (error) {
      showError(error);
    }
  };

  const refresh = useCallback(() => {
    client.call('scenes.list', {}).then(setScenes, showError);
  }, [client, showError]);

  useEffect(refresh, [refresh]);
  useStudioEvents((event) => {
    if (event.type === 'scenes-changed') refresh();
    else if (event.type === 'job' && event.job.status === 'succeeded') refresh();
  });

  const rename = async (scene: SceneSummary, name: string) => {
    try {
      const renamed = await client.call('scenes.rename', { sceneId: scene.id, name });
      setScenes((list) => list?.map((item) => (item.id === renamed.id ? renamed : item)) ?? null);
    } catch (error) {
      showError(error);
    }
  };

  const confirmDelete = async () => {
    const scene = pendingDelete;
    setPendingDelete(null);
    if (!scene) return;
    try {
      await client.call('scenes.delete', { sceneId: scene.id });
      setScenes((list) => list?.filter((item) => item.id !== scene.id) ?? null);
    } catch (error) {
      showError(error);
    }
  };

  return (
    <section className="library" data-testid="library">
      <div className="view-header">
        <h1>Library</h1>
        <span className="muted">
          {scenes ? `${scenes.length} scene${scenes.length === 1 ? '' : 's'}` : 'Loading…'}
        </span>
        <div className="spacer" />
        <button className="primary" onClick={() => picker.current?.click()} data-testid="import-button">
          Import…
        </button>
        <button
          onClick={() => void importFolder()}
          data-testid="import-folder-button"
          title="A COLMAP project (sparse/0 + images/), a folder with transforms.json (Polycam, Record3D, nerfstudio), or a folder of photos"
        >
          Import folder…
        </button>
        <input
          ref={folderPicker}
          type="file"
          hidden
          data-testid="import-folder-input"
          onChange={(event) => {
            const files = Array.from(event.currentTarget.files ?? []);
            event.currentTarget.value = '';
            try {
              if (files.length > 0) onImportFolders(foldersFromPickedFiles(files));
            } catch (error) {
              showError(error);
            }
          }}
        />
        <input
          ref={picker}
          type="file"
          multiple
          accept={IMPORT_ACCEPT}
          hidden
          data-testid="import-input"
          onChange={(event) => {
            const files = Array.from(event.currentTarget.files ?? []);
            event.currentTarget.value = '';
            onImport(files);
          }}
        />
      </div>
      {scenes && scenes.length === 0 && (
        <div className="empty-state" data-testid="library-empty">
          <div className="empty-icon">⬚</div>
          <h2>No scenes yet</h2>
          <p>
            Drop a phone video, a folder of photos, a PLY/GLB point cloud, or a posed capture (a COLMAP
            project or a folder with transforms.json) anywhere in this window, or use <strong>Import…</strong>{' '}
            and <strong>Import folder…</strong>.
          </p>
        </div>
      )}
      <div className="scene-grid">
        {scenes?.map((scene) => (
          <SceneCard
            key={scene.id}
            scene={scene}
            onOpen={() => onOpen(scene.id)}
            onRename={(name) => void rename(scene, name)}
            onDelete={() => setPendingDelete(scene)}
          />
        ))}
      </div>
      {pendingDelete && (
        <ConfirmDialog
          title="Delete scene?"
          body={`“${pendingDelete.name}” and everything reconstructed from it will be removed from the library. This cannot be undone.`}
          confirmLabel="Delete"
          onConfirm={() => void confirmDelete()}
          onCancel={() => setPendingDelete(null)}
        />
      )}
    </section>
  );
}
