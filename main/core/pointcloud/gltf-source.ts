// A glTF file's JSON and buffers, loaded without trusting anything in it.
//
// A .gltf or .glb names its own sizes and files; a hostile one names
// /dev/zero, ../../.ssh/id_rsa or a GLB chunk of 4 GB. So, before the reader
// touches an accessor:
//   - a GLB's total length must be the file's size and its chunks must lie
//     inside it;
//   - a buffer URI is a data: URI, or a relative path that resolves (after
//     symlinks) inside the glTF file's own folder and names a regular file;
//     anything else (absolute paths, "..", file:/http: URLs, devices, FIFOs)
//     is refused with a typed error;
//   - exactly `byteLength` bytes are read from it, never "until the end".
// Images are never read: a point cloud does not need them.

import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { StudioError } from '../../common/errors';

/** Largest JSON part accepted (a .gltf with data: URIs, or a GLB's JSON chunk). */
const MAX_JSON_BYTES = 256 << 20;
const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

/** The parts of glTF JSON the point cloud reader looks at; everything is checked before use. */
export type GltfJson = Record<string, unknown>;

export interface GltfSource {
  json: GltfJson;
  /** buffers[i] holds exactly json.buffers[i].byteLength bytes. */
  buffers: Uint8Array[];
  /** Bytes of every file read (the glTF and its buffers): bounds what the accessors may claim. */
  inputBytes: number;
}

export function corruptGltf(fileName: string, detail: string): StudioError {
  return new StudioError(
    'corrupt-media',
    `"${fileName}" cannot be read as glTF: ${detail}.`,
    'Export the file again from the program that made it.',
  );
}

function refusedUri(fileName: string, uri: string, why: string): StudioError {
  const shown = uri.length > 120 ? `${uri.slice(0, 120)}…` : uri;
  return new StudioError(
    'unsupported-file',
    `"${fileName}" refers to the buffer "${shown}", which ${why}.`,
    "Keep the glTF's .bin files in its own folder (relative names only), or export it as one GLB file.",
  );
}

async function readExactly(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('the file ended early');
    done += bytesRead;
  }
  return bytes;
}

function parseJson(fileName: string, text: string): GltfJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corruptGltf(
      fileName,
      `its JSON does not parse (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw corruptGltf(fileName, 'its JSON is not an object');
  const asset = (json as GltfJson).asset as { version?: unknown } | undefined;
  if (typeof asset?.version !== 'string' || !asset.version.startsWith('2.'))
    throw corruptGltf(fileName, 'it is not glTF 2.0 (asset.version)');
  return json as GltfJson;
}

/** GLB container: header, JSON chunk, optional BIN chunk, all checked against the file size. */
async function readGlbContainer(
  file: FileHandle,
  fileName: string,
  fileBytes: number,
): Promise<{ json: GltfJson; bin: Buffer | null }> {
  if (fileBytes < 20) throw corruptGltf(fileName, 'the GLB header is cut short');
  const head = await readExactly(file, 0, 20);
  if (head.readUInt32LE(0) !== GLB_MAGIC) throw corruptGltf(fileName, 'it has no GLB signature');
  if (head.readUInt32LE(4) !== 2) throw corruptGltf(fileName, `GLB version ${head.readUInt32LE(4)} is not 2`);
  const total = head.readUInt32LE(8);
  if (total !== fileBytes)
    throw corruptGltf(
      fileName,
      `the GLB header says ${total} bytes but the file has ${fileBytes} (truncated or padded)`,
    );
  const jsonLength = head.readUInt32LE(12);
  if (head.readUInt32LE(16) !== CHUNK_JSON) throw corruptGltf(fileName, 'the first GLB chunk is not JSON');
  if (20 + jsonLength > total) throw corruptGltf(fileName, 'the JSON chunk runs past the end of the file');
  if (jsonLength > MAX_JSON_BYTES)
    throw corruptGltf(
      fileName,
      `the JSON chunk is ${jsonLength} bytes, more than ${MAX_JSON_BYTES >> 20} MB`,
    );
  const json = parseJson(fileName, (await readExactly(file, 20, jsonLength)).toString('utf8'));
  const binAt = 20 + jsonLength;
  if (binAt + 8 > total) return { json, bin: null };
  const binHead = await readExactly(file, binAt, 8);
  if (binHead.readUInt32LE(4) !== CHUNK_BIN) return { json, bin: null };
  const binLength = binHead.readUInt32LE(0);
  if (binAt + 8 + binLength > total)
    throw corruptGltf(fileName, 'the BIN chunk runs past the end of the file');
  return { json, bin: await readExactly(file, binAt + 8, binLength) };
}

/** `data:[<type>][;base64],<data>` -> bytes; only base64 carries binary buffers. */
function decodeDataUri(fileName: string, uri: string): Buffer {
  const comma = uri.indexOf(',');
  if (comma < 0 || !uri.slice(0, comma).endsWith(';base64'))
    throw corruptGltf(fileName, 'a data: buffer URI is not base64');
  return Buffer.from(uri.slice(comma + 1), 'base64');
}

/**
 * Reads `byteLength` bytes of the external buffer `uri` of the glTF in `folder`.
 * Refuses what is not a relative path to a regular file inside that folder.
 */
async function readExternalBuffer(
  fileName: string,
  folder: string,
  uri: string,
  byteLength: number,
): Promise<{ bytes: Buffer; fileBytes: number }> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw refusedUri(fileName, uri, 'is a URL, not a file beside it');
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    throw corruptGltf(fileName, `the buffer URI "${uri.slice(0, 120)}" is not a valid URI`);
  }
  if (decoded.includes('\0')) throw refusedUri(fileName, uri, 'is not a valid file name');
  if (isAbsolute(decoded) || decoded.startsWith('/') || decoded.startsWith('\\'))
    throw refusedUri(fileName, uri, 'is an absolute path');
  const inside = (root: string, path: string): boolean => {
    const rel = relative(root, path);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  const candidate = resolve(folder, decoded);
  if (!inside(folder, candidate)) throw refusedUri(fileName, uri, "lies outside the glTF file's folder");
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new StudioError(
      'unreadable-path',
      `"${fileName}" needs the buffer file "${decoded}", which is missing beside it.`,
      'Copy the .bin files that came with the glTF into the same folder, or export it as one GLB file.',
    );
  }
  // A symlink inside the folder may still point anywhere: judge where it really leads.
  if (!inside(await realpath(folder), real))
    throw refusedUri(fileName, uri, "leads outside the glTF file's folder");
  // Devices (/dev/zero), FIFOs and folders never end or never answer: regular files only.
  if (!(await stat(real)).isFile()) throw refusedUri(fileName, uri, 'is not a regular file');
  const file = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await file.stat();
    if (!info.isFile()) throw refusedUri(fileName, uri, 'is not a regular file');
    if (info.size < byteLength)
      throw corruptGltf(
        fileName,
        `the buffer "${decoded}" has ${info.size} bytes, fewer than the ${byteLength} it declares`,
      );
    return { bytes: await readExactly(file, 0, byteLength), fileBytes: byteLength };
  } finally {
    await file.close();
  }
}

export async function loadGltfSource(path: string): Promise<GltfSource> {
  const fileName = basename(path);
  const file = await open(path, 'r');
  let json: GltfJson;
  let bin: Buffer | null = null;
  let inputBytes: number;
  try {
    const info = await file.stat();
    if (!info.isFile()) throw corruptGltf(fileName, 'it is not a regular file');
    inputBytes = info.size;
    const magic = info.size >= 4 ? (await readExactly(file, 0, 4)).readUInt32LE(0) : 0;
    if (magic === GLB_MAGIC) ({ json, bin } = await readGlbContainer(file, fileName, info.size));
    else {
      if (info.size > MAX_JSON_BYTES)
        throw corruptGltf(fileName, `its JSON is ${info.size} bytes, more than ${MAX_JSON_BYTES >> 20} MB`);
      json = parseJson(fileName, (await readExactly(file, 0, info.size)).toString('utf8'));
    }
  } finally {
    await file.close();
  }

  const bufferDefs = json.buffers ?? [];
  if (!Array.isArray(bufferDefs)) throw corruptGltf(fileName, '"buffers" is not a list');
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < bufferDefs.length; i++) {
    const def = bufferDefs[i] as { uri?: unknown; byteLength?: unknown } | null;
    const byteLength = def?.byteLength;
    if (typeof byteLength !== 'number' || !Number.isSafeInteger(byteLength) || byteLength < 0)
      throw corruptGltf(fileName, `buffer ${i} has no valid byteLength`);
    const uri = def?.uri;
    let bytes: Uint8Array;
    if (uri === undefined) {
      if (i !== 0 || !bin)
        throw corruptGltf(fileName, `buffer ${i} has no URI and there is no GLB BIN chunk for it`);
      bytes = bin;
    } else if (typeof uri !== 'string') {
      throw corruptGltf(fileName, `buffer ${i} has a URI that is not text`);
    } else if (uri.startsWith('data:')) {
      bytes = decodeDataUri(fileName, uri);
    } else {
      const external = await readExternalBuffer(fileName, dirname(path), uri, byteLength);
      bytes = external.bytes;
      inputBytes += external.fileBytes;
    }
    if (bytes.length < byteLength)
      throw corruptGltf(
        fileName,
        `buffer ${i} holds ${bytes.length} bytes, fewer than the ${byteLength} it declares`,
      );
    buffers.push(bytes.subarray(0, byteLength));
  }
  return { json, buffers, inputBytes };
}
