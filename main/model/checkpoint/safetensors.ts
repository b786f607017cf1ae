// Safetensors reader and writer.
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }`,
// then the tensor bytes; offsets are relative to the end of the header. The
// reader validates the whole header before handing out a single tensor (a port
// that trusts a damaged file reads garbage weights and reconstructs noise), and
// reads tensors by offset through a file handle: real checkpoints are ~18 GB and
// are never loaded whole. A sharded checkpoint (`model.safetensors.index.json`)
// opens as one SafetensorsFile whose tensors point into their own shard.

import { createWriteStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { StudioError } from '../../common/errors';
import { halfToFloat32Array } from '../graph/half';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F32: 4,
  BF16: 2,
  F16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the tensor's first byte in `file`. */
  byteOffset: number;
  byteLength: number;
  /** Absolute path of the file (shard) holding the tensor. */
  file: string;
}

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** One fs read is limited to 2 GiB; stay well below. */
const READ_CHUNK_BYTES = 256 * 1024 * 1024;

const REDOWNLOAD_FIX =
  'Download the checkpoint again (or copy it again): this file is damaged or incomplete.';

function corrupt(file: string, detail: string, fix = REDOWNLOAD_FIX): StudioError {
  return new StudioError('model-corrupt', `${basename(file)}: ${detail}`, fix);
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Parses and validates one safetensors file's header; returns its tensors with absolute offsets. */
async function readHeader(handle: FileHandle, file: string): Promise<Map<string, TensorInfo>> {
  const { size: fileSize } = await handle.stat();
  if (fileSize < 8) throw corrupt(file, `the file is ${fileSize} bytes, too short to be a safetensors file.`);
  const lengthBytes = Buffer.alloc(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const headerLength = lengthBytes.readBigUInt64LE(0);
  if (headerLength < 2n || headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(
      file,
      `the header length field (${headerLength}) is not plausible; this is not a safetensors file.`,
    );
  }
  const headerBytes = Number(headerLength);
  if (8 + headerBytes > fileSize) {
    throw corrupt(
      file,
      `the header declares ${headerBytes} bytes but the file is only ${fileSize} bytes (truncated).`,
    );
  }
  const headerBuffer = Buffer.alloc(headerBytes);
  await handle.read(headerBuffer, 0, headerBytes, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBuffer.toString('utf8'));
  } catch {
    throw corrupt(file, 'the header is not valid JSON.');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw corrupt(file, 'the header is not a JSON object.');
  }

  const dataStart = 8 + headerBytes;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  const spans: Array<{ name: string; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    if (typeof entry !== 'object' || entry === null)
      throw corrupt(file, `tensor ${name} has no description.`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) {
      throw corrupt(
        file,
        `tensor ${name} has dtype ${JSON.stringify(dtype)}, which G2 Studio does not read (F32, BF16, F16, I64, I32, U8, BOOL).`,
        'Convert the checkpoint to float32, bfloat16 or float16 safetensors (e.g. with the official PyTorch tools) and try again.',
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw corrupt(file, `tensor ${name} has an invalid shape ${JSON.stringify(shape)}.`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw corrupt(file, `tensor ${name} has invalid data offsets ${JSON.stringify(offsets)}.`);
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expectedBytes) {
      throw corrupt(
        file,
        `tensor ${name} (${dtype} ${JSON.stringify(shape)}) needs ${expectedBytes} bytes but its offsets span ${end - begin}.`,
      );
    }
    spans.push({ name, begin, end });
    tensors.set(name, {
      name,
      dtype,
      shape: shape.slice(),
      byteOffset: dataStart + begin,
      byteLength: expectedBytes,
      file,
    });
  }

  // The tensor bytes must tile the data section exactly: no overlap (two tensors
  // sharing bytes), no hole, and nothing missing at the end (a truncated download).
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const span of spans) {
    if (span.begin < cursor) throw corrupt(file, `tensor ${span.name} overlaps the tensor before it.`);
    if (span.begin > cursor)
      throw corrupt(file, `there is a gap of ${span.begin - cursor} bytes before tensor ${span.name}.`);
    cursor = span.end;
  }
  if (cursor > dataLength) {
    const last = spans[spans.length - 1];
    throw corrupt(
      file,
      `the file is truncated: the header declares ${cursor} bytes of tensor data but only ${dataLength} are present (tensor ${last.name} and possibly others are cut off).`,
    );
  }
  if (cursor < dataLength) {
    throw corrupt(file, `the file has ${dataLength - cursor} unexpected bytes after the last tensor.`);
  }
  return tensors;
}

interface ShardIndex {
  weight_map: Record<string, string>;
}

async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(indexPath, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StudioError(
        'unreadable-path',
        `${indexPath} does not exist.`,
        'Choose the checkpoint folder again.',
      );
    }
    throw corrupt(indexPath, 'the shard index is not valid JSON.');
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null) {
    throw corrupt(indexPath, 'the shard index has no weight_map.');
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw corrupt(indexPath, `tensor ${name} points to an invalid shard name ${JSON.stringify(shard)}.`);
    }
  }
  return { weight_map: weightMap as Record<string, string> };
}

function bf16ToFloat32(raw: Buffer, count: number): Float32Array {
  const source = new Uint16Array(raw.buffer, raw.byteOffset, count);
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) bits[i] = source[i] << 16;
  return new Float32Array(bits.buffer);
}

function f16ToFloat32(raw: Buffer, count: number): Float32Array {
  return halfToFloat32Array(new Uint16Array(raw.buffer, raw.byteOffset, count));
}

export class SafetensorsFile {
  /** The path given to open(): a .safetensors file or a shard index. */
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Free-form `__metadata__` of the (first) file. */
  readonly metadata: Readonly<Record<string, string>>;
  private readonly handles: Map<string, FileHandle>;
  private closed = false;

  private constructor(
    path: string,
    tensors: Map<string, TensorInfo>,
    handles: Map<string, FileHandle>,
    metadata: Record<string, string>,
  ) {
    this.path = path;
    this.tensors = tensors;
    this.handles = handles;
    this.metadata = metadata;
  }

  /** Opens a `.safetensors` file, or a `*.safetensors.index.json` and every shard it names. */
  static async open(path: string): Promise<SafetensorsFile> {
    const handles = new Map<string, FileHandle>();
    try {
      if (path.endsWith('.json')) {
        const index = await readShardIndex(path);
        const shardNames = [...new Set(Object.values(index.weight_map))].sort();
        const tensors = new Map<string, TensorInfo>();
        for (const shardName of shardNames) {
          const shardPath = join(dirname(path), shardName);
          const handle = await openHandle(shardPath);
          handles.set(shardPath, handle);
          for (const [name, info] of await readHeader(handle, shardPath)) {
            if (tensors.has(name)) throw corrupt(shardPath, `tensor ${name} is stored in two shards.`);
            if (index.weight_map[name] !== shardName) {
              throw corrupt(
                shardPath,
                `tensor ${name} is in this shard but the index ${basename(path)} says ${index.weight_map[name] ?? 'nothing about it'}.`,
              );
            }
            tensors.set(name, info);
          }
        }
        for (const [name, shardName] of Object.entries(index.weight_map)) {
          if (!tensors.has(name)) {
            throw corrupt(
              join(dirname(path), shardName),
              `tensor ${name} listed in ${basename(path)} is not in the shard.`,
            );
          }
        }
        return new SafetensorsFile(path, tensors, handles, {});
      }
      const handle = await openHandle(path);
      handles.set(path, handle);
      const tensors = await readHeader(handle, path);
      return new SafetensorsFile(path, tensors, handles, await readMetadata(handle));
    } catch (error) {
      await Promise.all([...handles.values()].map((h) => h.close().catch(() => undefined)));
      throw error;
    }
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      throw new StudioError(
        'model-corrupt',
        `${basename(this.path)}: tensor ${name} is missing.`,
        'Use a complete G2VLM checkpoint (all weights of the official release).',
      );
    }
    return info;
  }

  /** The tensor's bytes as stored (little-endian), in a Buffer that owns its memory (offset 0, aligned). */
  async readRaw(name: string): Promise<Buffer> {
    const info = this.info(name);
    const out = Buffer.allocUnsafeSlow(info.byteLength);
    await this.readInto(info, out, 0, info.byteLength);
    return out;
  }

  /**
   * The tensor's bytes in chunks of at most `chunkBytes` (a multiple of the element size),
   * for converters that must not hold a multi-GB tensor twice.
   */
  async *readRawChunks(name: string, chunkBytes = 64 * 1024 * 1024): AsyncGenerator<Buffer> {
    const info = this.info(name);
    const element = DTYPE_BYTES[info.dtype];
    const step = Math.max(element, chunkBytes - (chunkBytes % element));
    for (let start = 0; start < info.byteLength; start += step) {
      const length = Math.min(step, info.byteLength - start);
      const out = Buffer.allocUnsafeSlow(length);
      await this.readInto(info, out, start, length);
      yield out;
    }
  }

  /** Floating-point tensors (F32, BF16, F16) as float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    const count = elementCount(info.shape);
    const raw = await this.readRaw(name);
    switch (info.dtype) {
      case 'F32':
        return new Float32Array(raw.buffer, raw.byteOffset, count);
      case 'BF16':
        return bf16ToFloat32(raw, count);
      case 'F16':
        return f16ToFloat32(raw, count);
      default:
        throw corrupt(
          info.file,
          `tensor ${name} is ${info.dtype}, expected a floating-point tensor.`,
          'Use the official G2VLM checkpoint; its weights are floating point.',
        );
    }
  }

  /** The tensor in its natural typed array (floats widened to float32, BOOL as 0/1 bytes). */
  async readTyped(name: string): Promise<Float32Array | BigInt64Array | Int32Array | Uint8Array> {
    const info = this.info(name);
    const count = elementCount(info.shape);
    switch (info.dtype) {
      case 'F32':
      case 'BF16':
      case 'F16':
        return this.readFloat32(name);
      case 'I64': {
        const raw = await this.readRaw(name);
        return new BigInt64Array(raw.buffer, raw.byteOffset, count);
      }
      case 'I32': {
        const raw = await this.readRaw(name);
        return new Int32Array(raw.buffer, raw.byteOffset, count);
      }
      case 'U8':
      case 'BOOL': {
        const raw = await this.readRaw(name);
        return new Uint8Array(raw.buffer, raw.byteOffset, count);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.handles.values()].map((h) => h.close()));
  }

  private async readInto(info: TensorInfo, out: Buffer, start: number, length: number): Promise<void> {
    if (this.closed) {
      throw new StudioError(
        'internal',
        `${basename(info.file)} was read after it was closed.`,
        'Open the checkpoint again.',
      );
    }
    const handle = this.handles.get(info.file);
    if (!handle) throw corrupt(info.file, `no open file for tensor ${info.name}.`);
    let done = 0;
    while (done < length) {
      const want = Math.min(READ_CHUNK_BYTES, length - done);
      const { bytesRead } = await handle.read(out, done, want, info.byteOffset + start + done);
      if (bytesRead === 0) {
        throw corrupt(info.file, `tensor ${info.name} ends early: the file shrank or is truncated.`);
      }
      done += bytesRead;
    }
  }
}

async function openHandle(path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StudioError(
      'unreadable-path',
      code === 'ENOENT' ? `${path} does not exist.` : `${path} cannot be read (${code ?? 'error'}).`,
      code === 'ENOENT'
        ? 'Check that the checkpoint folder holds every file of the release.'
        : 'Check the file permissions and try again.',
    );
  }
}

async function readMetadata(handle: FileHandle): Promise<Record<string, string>> {
  const lengthBytes = Buffer.alloc(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const headerBuffer = Buffer.alloc(Number(lengthBytes.readBigUInt64LE(0)));
  await handle.read(headerBuffer, 0, headerBuffer.length, 8);
  const metadata = (JSON.parse(headerBuffer.toString('utf8')) as { __metadata__?: unknown }).__metadata__;
  if (typeof metadata !== 'object' || metadata === null) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (typeof value === 'string') out[key] = value;
  return out;
}

// ---------------------------------------------------------------------------
// Writer

/** Tensor data for the writer: the bytes at once, or chunks produced on demand (bounded memory). */
export type TensorData = ArrayBufferView | (() => Iterable<ArrayBufferView> | AsyncIterable<ArrayBufferView>);

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface WriteSafetensorsOptions {
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called after each tensor with the bytes written so far and the total. */
  onTensorWritten?: (writtenBytes: number, totalBytes: number, name: string) => void;
}

/** Float32 values rounded to bfloat16 (round to nearest even; NaN stays NaN). */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && b & 0x007fffff) out[i] = 0x7fc0;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Writes a safetensors file tensor by tensor (in the given order) to `path`.
 * The file appears under its name only when complete: it is written to
 * `path.partial` and renamed, so a crash or cancel never leaves a truncated file.
 */
export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name) || tensor.name === '__metadata__') {
      throw new StudioError(
        'invalid-input',
        `Tensor name ${tensor.name} is used twice.`,
        'Give every tensor its own name.',
      );
    }
    seen.add(tensor.name);
    const byteLength = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + byteLength],
    };
    offset += byteLength;
  }
  const totalBytes = offset;
  let headerJson = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces to keep the tensor data 8-byte aligned (what the reference writer does).
  const padded = Math.ceil(headerJson.length / 8) * 8;
  if (padded !== headerJson.length)
    headerJson = Buffer.concat([headerJson, Buffer.alloc(padded - headerJson.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerJson.length), 0);

  const partialPath = `${path}.partial`;
  const stream = createWriteStream(partialPath);
  const write = async (chunk: Uint8Array): Promise<void> => {
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  try {
    await write(prefix);
    await write(headerJson);
    let written = 0;
    for (const tensor of tensors) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const byteLength = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
      let tensorBytes = 0;
      const chunks = ArrayBuffer.isView(tensor.data) ? [tensor.data] : tensor.data();
      for await (const chunk of chunks) {
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        tensorBytes += bytes.byteLength;
        if (tensorBytes > byteLength) break;
        await write(bytes);
      }
      if (tensorBytes !== byteLength) {
        throw new StudioError(
          'internal',
          `Tensor ${tensor.name} produced ${tensorBytes} bytes, expected ${byteLength} (${tensor.dtype} ${JSON.stringify(tensor.shape)}).`,
          'This is a bug in the writer caller; report it.',
        );
      }
      written += byteLength;
      options.onTensorWritten?.(written, totalBytes, tensor.name);
    }
    stream.end();
    await once(stream, 'finish');
    await fs.rename(partialPath, path);
  } catch (error) {
    stream.destroy();
    await fs.rm(partialPath, { force: true });
    throw error;
  }
}
