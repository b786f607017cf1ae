// A packaged app never loads its page from ELECTRON_RENDERER_URL (anyone who
// can set the environment could swap the studio's page for another site's).
import { describe, expect, it } from 'vitest';
import { rendererDevServerUrl } from '../../../main/electron/development-mode';

describe('rendererDevServerUrl', () => {
  const env = { ELECTRON_RENDERER_URL: 'http://localhost:5173' };
  it('ignores ELECTRON_RENDERER_URL in a packaged app', () => {
    expect(rendererDevServerUrl(true, env)).toBeUndefined();
  });
  it('uses it under electron-vite dev (unpackaged)', () => {
    expect(rendererDevServerUrl(false, env)).toBe('http://localhost:5173');
    expect(rendererDevServerUrl(false, {})).toBeUndefined();
    expect(rendererDevServerUrl(false, { ELECTRON_RENDERER_URL: '' })).toBeUndefined();
  });
});
