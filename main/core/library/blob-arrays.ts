// Typed arrays <-> SQLite BLOBs without extra copies. The library stores
// arrays in the machine's byte order, which is little-endian on every platform
// we ship (x64, arm64) and is what blobPaths promises the renderer.

import { endianness } from 'node:os';

if (endianness() !== 'LE') {
  // Refuse loudly rather than write byte-swapped point clouds.
  throw new Error('G2 Studio stores little-endian arrays and needs a little-endian CPU.');
}

/** A Buffer over the same memory as the array (no copy), for binding as a BLOB. */
export function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * A Float32Array over a BLOB read from SQLite. Large Buffers own their memory
 * at offset 0, so this is a view; small pooled ones may be misaligned and are
 * copied.
 */
export function float32Of(bytes: Buffer): Float32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new Error(`float32 blob has ${bytes.byteLength} bytes, not a multiple of 4`);
  if (bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

export function uint8Of(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The largest array stored as one BLOB. SQLite refuses values over 1e9 bytes
 * (SQLITE_MAX_LENGTH) and better-sqlite3 says "too big"; bigger arrays go in
 * ordered chunks of this size. 256 MiB keeps one chunk's copy cheap.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 2 ** 20;

/** Views (no copies) of consecutive `chunkBytes` pieces of `bytes`; the last may be shorter. */
export function chunksOf(bytes: Uint8Array, chunkBytes: number): Buffer[] {
  if (!(chunkBytes > 0)) throw new Error(`chunk size must be positive, not ${chunkBytes}`);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
    const length = Math.min(chunkBytes, bytes.byteLength - offset);
    chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset + offset, length));
  }
  return chunks;
}

/** One Buffer of exactly `totalBytes` from ordered chunks (one allocation, one copy per chunk). */
export function joinChunks(chunks: Iterable<Uint8Array>, totalBytes: number): Buffer {
  const joined = Buffer.allocUnsafe(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset + chunk.byteLength > totalBytes)
      throw new Error(`stored chunks hold more than the expected ${totalBytes} bytes`);
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== totalBytes) throw new Error(`stored chunks hold ${offset} bytes, expected ${totalBytes}`);
  return joined;
}
