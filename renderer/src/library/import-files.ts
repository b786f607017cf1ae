// Turning dropped or picked files into scenes.import calls: photos picked
// together become one scene; every video or point cloud is a scene of its own.

import type { StudioClient } from '../api/client';

const PHOTO_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'heic', 'heif', 'bmp', 'tif', 'tiff']);

export const IMPORT_ACCEPT = 'video/*,image/*,.mov,.mp4,.m4v,.mkv,.webm,.ply,.glb';

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

export function groupForImport(files: File[]): File[][] {
  const photos = files.filter((file) => PHOTO_EXTENSIONS.has(extensionOf(file.name)));
  const others = files.filter((file) => !PHOTO_EXTENSIONS.has(extensionOf(file.name)));
  return [...others.map((file) => [file]), ...(photos.length > 0 ? [photos] : [])];
}

/** Upload (web) or resolve (Electron) each file, then start one import job per group. */
export async function importFiles(client: StudioClient, files: File[]): Promise<string[]> {
  const jobIds: string[] = [];
  for (const group of groupForImport(files)) {
    const sources = [];
    for (const file of group) sources.push(await client.importSourceFor(file));
    const { jobId } = await client.call('scenes.import', { sources });
    jobIds.push(jobId);
  }
  return jobIds;
}
