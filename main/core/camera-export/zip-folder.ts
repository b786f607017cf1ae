// A finished export folder as one zip, for the web bridge and Electron's
// download (a browser cannot save a folder). Streamed with fflate: images are
// stored as they are (already compressed), text is deflated at a fast level, and
// the zip appears under its name only when complete.

import { createReadStream, promises as fs, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { cancelledError } from '../../common/errors';

const STORED = /\.(jpe?g|png|ply)$/i;

export async function zipFolder(
  dir: string,
  files: readonly string[],
  zipPath: string,
  opts: { signal?: AbortSignal; what?: string } = {},
): Promise<number> {
  const partial = `${zipPath}.tmp`;
  const fd = openSync(partial, 'w');
  let failure: Error | null = null;
  let bytes = 0;
  // fflate's callback is synchronous; writeSync keeps the chunks in order.
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else if (!failure) {
      writeSync(fd, chunk);
      bytes += chunk.length;
    }
  });
  try {
    for (const file of files) {
      if (opts.signal?.aborted) throw cancelledError(opts.what ?? 'The export');
      const entry = STORED.test(file) ? new ZipPassThrough(file) : new ZipDeflate(file, { level: 1 });
      zip.add(entry);
      for await (const chunk of createReadStream(join(dir, file), { highWaterMark: 1 << 20 })) {
        entry.push(chunk as Buffer);
        if (failure) throw failure;
      }
      entry.push(new Uint8Array(0), true);
    }
    zip.end();
    if (failure) throw failure;
    fsyncSync(fd);
    closeSync(fd);
    await fs.rename(partial, zipPath);
    return bytes;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    await fs.rm(partial, { force: true });
    throw error;
  }
}
