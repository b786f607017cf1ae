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
  };
}
