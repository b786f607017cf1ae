import { lazy, Suspense, useCallback, useEffect, useState, type DragEvent } from 'react';
import { ErrorBanner } from './common/ErrorBanner';
import { useStudio } from './common/studio-context';
import { JobsPanel } from './jobs/JobsPanel';
import { folderFromDroppedDirectory, splitDrop } from './library/folder-entries';
import { FolderUploadStatus, useFolderImports } from './library/FolderUploads';
import { importFiles } from './library/import-files';
import { LibraryView } from './library/LibraryView';
import { ModelSetupCard } from './model-manager/ModelSetupCard';
import { ModelsDialog } from './model-manager/ModelsDialog';

// three.js and the viewer load only when a scene is opened: the library opens fast.
const SceneView = lazy(() => import('./scene/SceneView').then((module) => ({ default: module.SceneView })));

/** #/scene/<id> opens a scene; anything else is the library. */
function sceneIdFromHash(hash: string): string | null {
  const match = /^#\/scene\/([A-Za-z0-9_-]+)$/.exec(hash);
  return match ? match[1] : null;
}

function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer.types).includes('Files');
}

export function App() {
  const { client, showError } = useStudio();
  const [sceneId, setSceneId] = useState(() => sceneIdFromHash(window.location.hash));
  const [dragging, setDragging] = useState(false);
  const [uploading, setUploading] = useState(0);
  const [showModels, setShowModels] = useState(false);
  const folderImports = useFolderImports();

  useEffect(() => {
    const onHash = () => setSceneId(sceneIdFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const openScene = useCallback((id: string | null) => {
    window.location.hash = id ? `#/scene/${id}` : '#/';
  }, []);

  const startImport = useCallback(
    async (files: File[]) => {
      if (files.length === 0) return;
      setUploading((count) => count + files.length);
      try {
        await importFiles(client, files);
      } catch (error) {
        showError(error);
      } finally {
        setUploading((count) => count - files.length);
      }
    },
    [client, showError],
  );

  return (
    <div
      className="app"
      onDragOver={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setDragging(false);
      }}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        // Web mode: a dropped folder is uploaded with its files' relative paths.
        const { files, directories } =
          client.mode === 'web'
            ? splitDrop(event.dataTransfer)
            : { files: Array.from(event.dataTransfer.files), directories: [] };
        void startImport(files);
        if (directories.length > 0) {
          Promise.all(directories.map(folderFromDroppedDirectory)).then(
            folderImports.importFolders,
            showError,
          );
        }
      }}
    >
      <header className="topbar">
        <button className="brand" onClick={() => openScene(null)} data-testid="nav-library">
          <span className="brand-mark">G2</span> Studio
        </button>
        <span className="topbar-mode" title="How this window talks to the studio core">
          {client.mode === 'web' ? 'Web mode · this machine only' : 'Desktop'}
        </span>
        <div className="spacer" />
        <button
          onClick={() => setShowModels(true)}
          data-testid="models-button"
          title="Installed G2VLM models"
        >
          Models
        </button>
        <FolderUploadStatus uploads={folderImports.uploads} onCancel={folderImports.cancel} />
        {uploading > 0 && (
          <span className="topbar-status" data-testid="upload-status">
            Uploading {uploading} file{uploading === 1 ? '' : 's'}…
          </span>
        )}
      </header>
      <ErrorBanner />
      <div className="workspace">
        <main className="main-view">
          {sceneId ? (
            <Suspense fallback={<div className="scene-view loading">Loading viewer…</div>}>
              <SceneView key={sceneId} sceneId={sceneId} onBack={() => openScene(null)} />
            </Suspense>
          ) : (
            <>
              <ModelSetupCard onOpenModels={() => setShowModels(true)} />
              <LibraryView
                onOpen={openScene}
                onImport={startImport}
                onImportFolders={folderImports.importFolders}
              />
            </>
          )}
        </main>
        <JobsPanel />
      </div>
      {showModels && <ModelsDialog onClose={() => setShowModels(false)} />}
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div>
            Drop a video, photos, a PLY/GLB point cloud, or a capture folder (COLMAP, transforms.json) to
            import
          </div>
        </div>
      )}
    </div>
  );
}
