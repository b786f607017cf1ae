// Folder uploads (web mode): announce a picked or dropped folder, or drop one
// (a cancelled upload). The files themselves arrive over the web bridge's byte
// route (StudioService.saveFolderUploadFile); see main/core/uploads.ts.

import type { HandlerContext, HandlerGroup } from './handler-context';

export function uploadHandlers(ctx: HandlerContext): HandlerGroup<'uploads.beginFolder' | 'uploads.discard'> {
  return {
    'uploads.beginFolder': (manifest) => ctx.uploads.beginFolder(manifest),
    'uploads.discard': async ({ uploadId }) => ({ discarded: await ctx.uploads.release(uploadId) }),
  };
}
