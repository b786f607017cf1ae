// Whether the shell runs under `electron-vite dev`. Only an unpackaged app may
// load its page from a dev server or relax the custom scheme's CORS: in a
// shipped app, an ELECTRON_RENDERER_URL in the environment (set by anyone who
// can start the app) must not swap the studio's page for another site's.

/** The renderer dev server URL to load, or undefined to load the built page. */
export function rendererDevServerUrl(isPackaged: boolean, env: NodeJS.ProcessEnv): string | undefined {
  return isPackaged ? undefined : env.ELECTRON_RENDERER_URL || undefined;
}
