import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// One build for the three Electron targets. The main target also emits the
// plain-Node entry points (CLI/web server, engine worker, benchmarks): the studio
// core has no Electron imports, so the same bundle runs under Node and Electron.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The viewer benchmark drives Chromium with playwright-core (a dev dependency): loaded, not bundled.
      externalizeDeps: { include: ['playwright-core'] },
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'main/electron/index.ts'),
          cli: resolve(__dirname, 'main/cli/index.ts'),
          'engine-worker': resolve(__dirname, 'main/model/engine/engine-worker.ts'),
          bench: resolve(__dirname, 'main/bench/index.ts'),
          // A chat question in a process of its own (the real-2b benchmark reads its peak RSS).
          'chat-probe-child': resolve(__dirname, 'main/bench/chat-probe-child.ts'),
          // One provider's reconstruction in a process of its own (the GPU benchmark).
          'gpu-bench-child': resolve(__dirname, 'main/bench/gpu-bench-child.ts'),
        },
        // Shared chunks sit beside the entries, so `__dirname` is out/main in every
        // module: the engine client finds engine-worker.js and the web server finds
        // ../renderer from whichever chunk their code lands in.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve(__dirname, 'preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'renderer/index.html'),
          // The viewer benchmark page (`npm run bench -- viewer` loads it in Chromium).
          'viewer-bench': resolve(__dirname, 'renderer/bench/viewer-bench.html'),
        },
      },
    },
  },
});
