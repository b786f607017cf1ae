// Electron: the API over the preload bridge (window.g2studio, IPC underneath),
// bulk data over the g2studio:// protocol.

import { BRIDGE_NAME, type StudioTransport } from '../../../main/common/api';
import { StudioError } from '../../../main/common/errors';
import type { G2StudioBridge } from '../../../preload/bridge-types';

export function findBridge(): G2StudioBridge | null {
  const bridge = (window as unknown as Record<string, unknown>)[BRIDGE_NAME];
  return bridge && typeof bridge === 'object' ? (bridge as G2StudioBridge) : null;
}

export function createElectronTransport(bridge: G2StudioBridge): StudioTransport {
  return {
    async call(name, input) {
      const envelope = await bridge.call(name, input);
      if (!envelope.ok) throw StudioError.fromInfo(envelope.error);
      // The result of the operation `name`, as the core returned it (IPC carries no types).
      return envelope.result as never;
    },
    subscribe: (listener) => bridge.subscribe(listener),
    blobUrl: (path) => bridge.blobBase + path,
    importSourceFor: async (file) => bridge.importSourceFor(file),
    // The core reads a folder in place: a picked folder's path is the folder
    // of any of its files, less that file's relative path.
    async importSourceForFolder(folder) {
      const first = folder.files[0];
      const source = first ? bridge.importSourceFor(first.file) : null;
      if (source?.kind !== 'path' || !source.path.replace(/\\/g, '/').endsWith(`/${first.path}`)) {
        throw new StudioError(
          'unreadable-path',
          `The folder "${folder.name}" is not on this computer.`,
          'Use File > Import folder… to pick it.',
        );
      }
      return { kind: 'path', path: source.path.slice(0, source.path.length - first.path.length - 1) };
    },
    async pickFolder() {
      const envelope = await bridge.pickFolder();
      if (!envelope.ok) throw StudioError.fromInfo(envelope.error);
      return envelope.result ? { kind: 'path', path: envelope.result } : null;
    },
  };
}
