// The preload bridge: the renderer's only way to the studio in Electron. It
// exposes exactly the transport the API contract needs (call, subscribe,
// importSourceFor, pickFolder, blobBase) as window.g2studio; no Node or Electron object
// crosses into the page.
//
// This script runs sandboxed, where require() knows only a few Electron
// modules, so it imports nothing with runtime dependencies: the contract's
// names come in as types and are checked against literals here.

import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { BLOB_PROTOCOL, BRIDGE_NAME } from '../main/common/api';
import type { StudioEvent } from '../main/common/domain';
import { IPC_CALL, IPC_EVENT, IPC_PICK_FOLDER, type CallEnvelope, type G2StudioBridge } from './bridge-types';

// A compile error here means the contract renamed them: update both literals.
const bridgeName: typeof BRIDGE_NAME = 'g2studio';
const blobProtocol: typeof BLOB_PROTOCOL = 'g2studio';
/** The renderer and its blobs are served from g2studio://app (see main/electron/app-protocol.ts). */
const blobBase = `${blobProtocol}://app`;

const bridge: G2StudioBridge = {
  call: (name, input) => ipcRenderer.invoke(IPC_CALL, name, input) as Promise<CallEnvelope>,
  subscribe(listener) {
    const onEvent = (_event: IpcRendererEvent, studioEvent: StudioEvent) => listener(studioEvent);
    ipcRenderer.on(IPC_EVENT, onEvent);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, onEvent);
    };
  },
  importSourceFor(file) {
    // File.path is gone since Electron 32; webUtils maps a dropped/picked File to its path.
    const path = webUtils.getPathForFile(file);
    if (!path) throw new Error(`"${file.name}" is not a file on this computer.`);
    return { kind: 'path', path };
  },
  pickFolder: () => ipcRenderer.invoke(IPC_PICK_FOLDER) as ReturnType<G2StudioBridge['pickFolder']>,
  blobBase,
};

contextBridge.exposeInMainWorld(bridgeName, bridge);
