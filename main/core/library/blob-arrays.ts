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
