// One renderer, two hosts: inside Electron the preload bridge exists; in a
// browser it does not and the page talks to the server that served it.

import { createStudioClient, type StudioClient } from './client';
import { createElectronTransport, findBridge } from './electron-transport';
import { createWebTransport } from './web-transport';

export function connectStudio(): StudioClient {
  const bridge = findBridge();
  return bridge
    ? createStudioClient(createElectronTransport(bridge), 'electron')
    : createStudioClient(createWebTransport(), 'web');
}
