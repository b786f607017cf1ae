// How the viewer benchmark and the browser tests start Chromium: Debian's
// binary (or G2STUDIO_CHROMIUM), headless, with WebGL on ANGLE + SwiftShader so
// three.js renders on machines without a GPU. One list, so the benchmark
// measures the renderer the tests check.

export const CHROMIUM_PATH = process.env.G2STUDIO_CHROMIUM ?? '/usr/bin/chromium';

export const SOFTWARE_WEBGL_ARGS: readonly string[] = [
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-dev-shm-usage',
];
