// PLY -> PointCloud, streaming: the file is read in chunks of a few MB, so a
// 1 GB file never becomes one string or one buffer. Reads ASCII and binary
// (little and big endian); positions as float or double; colours as
// red/green/blue, r/g/b or diffuse_red/... in uchar (as is), ushort (top
// byte) or float/double (0..1, the PLY convention, clamped). Every other
// property (normals, alpha, scalar fields, curvature) and every other element
// (faces, edges) is skipped. Positions stay in the file's axes (see axes.ts:
// PLY is OpenCV-axes in this studio).

import { open, type FileHandle } from 'node:fs/promises';
import { upAxisToOpenCvInPlace } from './axes';
import {
  allocatePointArrays,
  taskCheckpoint,
  type PointCloud,
  type PointCloudTaskOptions,
} from './point-cloud';
import {
  corruptPly,
  findHeaderEnd,
  MAX_PLY_HEADER_BYTES,
  fixedRecordBytes,
  minRecordBytes,
  parsePlyHeader,
  PLY_TYPE_BYTES,
  type PlyElement,
  type PlyHeader,
  type PlyProperty,
  type PlyScalarType,
} from './ply-header';

const CHUNK_BYTES = 4 << 20;
/** Longest single record (or ASCII line) accepted; real ones are tens of bytes. */
const MAX_RECORD_BYTES = 64 << 20;
const COLOR_NAMES = [
  ['red', 'green', 'blue'],
  ['r', 'g', 'b'],
  ['diffuse_red', 'diffuse_green', 'diffuse_blue'],
] as const;

const NON_FINITE_WORDS = /^([+-]?)(nan|inf|infinity)$/i;

type ScalarReader = (view: DataView, offset: number) => number;

function scalarReader(type: PlyScalarType, littleEndian: boolean): ScalarReader {
  switch (type) {
    case 'int8':
      return (v, o) => v.getInt8(o);
    case 'uint8':
      return (v, o) => v.getUint8(o);
    case 'int16':
      return (v, o) => v.getInt16(o, littleEndian);
    case 'uint16':
      return (v, o) => v.getUint16(o, littleEndian);
    case 'int32':
      return (v, o) => v.getInt32(o, littleEndian);
    case 'uint32':
      return (v, o) => v.getUint32(o, littleEndian);
    case 'float32':
      return (v, o) => v.getFloat32(o, littleEndian);
    case 'float64':
      return (v, o) => v.getFloat64(o, littleEndian);
  }
}

/** A colour channel value in the file's type -> 0..255. */
function colorConverter(type: PlyScalarType): (value: number) => number {
  if (type === 'float32' || type === 'float64') return (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  if (type === 'uint16') return (v) => v >> 8;
  return (v) => Math.min(255, Math.max(0, v));
}

/** Reads a file front to back through one reusable buffer. */
class ChunkReader {
  buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  start = 0;
  end = 0;
  private filePosition: number;
  eof = false;
  constructor(
    private readonly file: FileHandle,
    position: number,
    /** Called before each read with the file position: reports progress, throws when cancelled. */
    private readonly onRead: (filePosition: number) => void = () => undefined,
  ) {
    this.filePosition = position;
  }
  get available(): number {
    return this.end - this.start;
  }
  /** Keep unread bytes, read more after them. Returns false at end of file with nothing new. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    this.onRead(this.filePosition);
    if (this.start > 0) {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buffer.length) {
      // Only a record longer than the buffer gets here (a list of millions of items).
      if (this.buffer.length >= MAX_RECORD_BYTES)
        throw corruptPly(`one record is longer than ${MAX_RECORD_BYTES >> 20} MB`);
      const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(bigger, 0, 0, this.end);
      this.buffer = bigger;
    }
    const { bytesRead } = await this.file.read(
      this.buffer,
      this.end,
      this.buffer.length - this.end,
      this.filePosition,
    );
    this.filePosition += bytesRead;
    this.end += bytesRead;
    if (bytesRead === 0) this.eof = true;
    return bytesRead > 0;
  }
  /** Moves `bytes` forward without reading them; false when the file ends first. */
  async skip(bytes: number): Promise<boolean> {
    const fromBuffer = Math.min(bytes, this.available);
    this.start += fromBuffer;
    const beyond = bytes - fromBuffer;
    if (beyond === 0) return true;
    this.onRead(this.filePosition);
    const size = (await this.file.stat()).size;
    if (this.filePosition + beyond > size) return false;
    this.filePosition += beyond;
    return true;
  }
}

interface VertexLayout {
  position: [number, number, number];
  color: [number, number, number] | null;
}

function vertexLayout(vertex: PlyElement): VertexLayout {
  const index = (name: string): number =>
    vertex.properties.findIndex((p) => p.name === name && p.listCountType === null);
  const position: [number, number, number] = [index('x'), index('y'), index('z')];
  if (position.some((i) => i < 0)) throw corruptPly('the vertices have no x, y, z properties');
  for (const names of COLOR_NAMES) {
    const color = names.map(index) as [number, number, number];
    if (color.every((i) => i >= 0)) return { position, color };
  }
  return { position, color: null };
}

async function readHeader(file: FileHandle): Promise<PlyHeader> {
  let head = Buffer.alloc(0);
  while (head.length < MAX_PLY_HEADER_BYTES) {
    const chunk = Buffer.allocUnsafe(Math.max(4096, head.length));
    const { bytesRead } = await file.read(chunk, 0, chunk.length, head.length);
    if (bytesRead === 0) break;
    head = Buffer.concat([head, chunk.subarray(0, bytesRead)]);
    if (findHeaderEnd(head) >= 0) break;
  }
  return parsePlyHeader(head);
}

/**
 * Refuses a header whose element counts cannot fit in the file, before
 * anything is allocated or looped over: a 157-byte file may not claim 2^53
 * records, nor 4e9 points.
 */
function checkCountsFitFile(header: PlyHeader, vertexIndex: number, dataBytes: number): void {
  let needed = 0;
  for (const element of header.elements.slice(0, vertexIndex + 1)) {
    // ASCII: every property is at least one digit and a separator ("0 "); a list at least its length.
    const perRecord = header.format === 'ascii' ? 2 * element.properties.length : minRecordBytes(element);
    needed += element.count * perRecord;
    if (needed > dataBytes) {
      const fixed = fixedRecordBytes(element);
      if (element.name === 'vertex' && header.format !== 'ascii' && fixed)
        throw corruptPly(
          `it ends after ${Math.max(0, Math.floor((dataBytes - (needed - element.count * fixed)) / fixed))} of ${element.count} points (the file is truncated)`,
        );
      const what =
        element.name === 'vertex'
          ? `the header promises ${element.count} points`
          : `the header promises ${element.count} "${element.name}" records before the points`;
      throw corruptPly(
        `${what} but the file has only ${dataBytes} bytes of data (it is truncated or the header is wrong)`,
      );
    }
  }
}

export async function readPly(path: string, opts: PointCloudTaskOptions = {}): Promise<PointCloud> {
  const checkpoint = taskCheckpoint(opts, 'read', 'Point cloud import');
  checkpoint(0);
  const file = await open(path, 'r');
  try {
    const header = await readHeader(file);
    const vertexIndex = header.elements.findIndex((e) => e.name === 'vertex');
    if (vertexIndex < 0) throw corruptPly('it has no vertex element');
    const vertex = header.elements[vertexIndex];
    const layout = vertexLayout(vertex);
    const fileBytes = (await file.stat()).size;
    checkCountsFitFile(header, vertexIndex, fileBytes - header.headerBytes);
    const reader = new ChunkReader(file, header.headerBytes, (position) => checkpoint(position / fileBytes));
    let cloud: PointCloud;
    if (header.format === 'ascii') {
      cloud = await readAscii(reader, header.elements.slice(0, vertexIndex), vertex, layout);
    } else {
      const littleEndian = header.format === 'binary_little_endian';
      for (const element of header.elements.slice(0, vertexIndex))
        await skipBinaryElement(reader, element, littleEndian);
      cloud = await readBinaryVertices(reader, vertex, layout, littleEndian);
    }
    upAxisToOpenCvInPlace(header.upAxis, cloud.positions); // our own y-up / z-up exports
    checkpoint(1);
    return cloud;
  } finally {
    await file.close();
  }
}

/** Byte length of one record of `element` at buffer[offset], or -1 when it is not all in the buffer. */
function recordLength(
  view: DataView,
  offset: number,
  limit: number,
  element: PlyElement,
  littleEndian: boolean,
): number {
  let at = offset;
  for (const property of element.properties) {
    if (property.listCountType === null) {
      at += PLY_TYPE_BYTES[property.type];
      continue;
    }
    const countBytes = PLY_TYPE_BYTES[property.listCountType];
    if (at + countBytes > limit) return -1;
    const count = scalarReader(property.listCountType, littleEndian)(view, at);
    // A negative length would make a record end before it starts: parsing could loop forever.
    if (count < 0)
      throw corruptPly(`a "${property.name}" list of the "${element.name}" element has length ${count}`);
    at += countBytes + count * PLY_TYPE_BYTES[property.type];
  }
  return at > limit ? -1 : at - offset;
}

async function skipBinaryElement(
  reader: ChunkReader,
  element: PlyElement,
  littleEndian: boolean,
): Promise<void> {
  const fixed = fixedRecordBytes(element);
  if (fixed !== null) {
    // Same-size records are skipped as one byte range: no loop per record, so
    // records of 0 bytes (an element without properties) cost nothing whatever their count.
    if (!(await reader.skip(element.count * fixed)))
      throw corruptPly(`it ends inside the "${element.name}" element (the file is truncated)`);
    return;
  }
  // Every record here takes at least one byte (a list length), so each pass of the loop moves on.
  let remaining = element.count;
  while (remaining > 0) {
    const view = new DataView(reader.buffer.buffer, reader.buffer.byteOffset, reader.buffer.length);
    let length;
    while (
      remaining > 0 &&
      (length = recordLength(view, reader.start, reader.end, element, littleEndian)) >= 0
    ) {
      reader.start += length;
      remaining--;
    }
    if (remaining > 0 && !(await reader.fill()))
      throw corruptPly(`it ends inside the "${element.name}" element (the file is truncated)`);
  }
}

async function readBinaryVertices(
  reader: ChunkReader,
  vertex: PlyElement,
  layout: VertexLayout,
  littleEndian: boolean,
): Promise<PointCloud> {
  const count = vertex.count;
  const { positions, colors } = allocatePointArrays(count, layout.color !== null);
  // Offsets of each property inside a record (fixed part; lists make records variable).
  const readers = vertex.properties.map((p) => scalarReader(p.type, littleEndian));
  const hasLists = vertex.properties.some((p) => p.listCountType !== null);
  const offsets: number[] = [];
  let stride = 0;
  for (const p of vertex.properties) {
    offsets.push(stride);
    stride += PLY_TYPE_BYTES[p.type];
  }
  const [px, py, pz] = layout.position;
  const colorConverters = layout.color?.map((i) => colorConverter(vertex.properties[i].type));
  let done = 0;
  while (done < count) {
    const view = new DataView(reader.buffer.buffer, reader.buffer.byteOffset, reader.buffer.length);
    while (done < count) {
      let base = reader.start;
      let length = stride;
      let propertyOffsets = offsets;
      if (hasLists) {
        length = recordLength(view, base, reader.end, vertex, littleEndian);
        if (length < 0) break;
        propertyOffsets = listAwareOffsets(view, base, vertex.properties, littleEndian);
      } else if (base + stride > reader.end) break;
      positions[done * 3] = readers[px](view, base + propertyOffsets[px]);
      positions[done * 3 + 1] = readers[py](view, base + propertyOffsets[py]);
      positions[done * 3 + 2] = readers[pz](view, base + propertyOffsets[pz]);
      if (colors && layout.color && colorConverters) {
        for (let c = 0; c < 3; c++) {
          const i = layout.color[c];
          colors[done * 3 + c] = colorConverters[c](readers[i](view, base + propertyOffsets[i]));
        }
      }
      base += length;
      reader.start = base;
      done++;
    }
    if (done < count && !(await reader.fill()))
      throw corruptPly(`it ends after ${done} of ${count} points (the file is truncated)`);
  }
  return { positions, colors, count };
}

function listAwareOffsets(
  view: DataView,
  base: number,
  properties: PlyProperty[],
  littleEndian: boolean,
): number[] {
  const offsets: number[] = [];
  let at = base;
  for (const p of properties) {
    offsets.push(at - base);
    if (p.listCountType === null) at += PLY_TYPE_BYTES[p.type];
    else {
      const n = scalarReader(p.listCountType, littleEndian)(view, at);
      at += PLY_TYPE_BYTES[p.listCountType] + n * PLY_TYPE_BYTES[p.type];
    }
  }
  return offsets;
}

async function readAscii(
  reader: ChunkReader,
  before: PlyElement[],
  vertex: PlyElement,
  layout: VertexLayout,
): Promise<PointCloud> {
  const count = vertex.count;
  const { positions, colors } = allocatePointArrays(count, layout.color !== null);
  const colorConverters = layout.color?.map((i) => colorConverter(vertex.properties[i].type));
  const hasLists = vertex.properties.some((p) => p.listCountType !== null);
  // Records of an element without properties are empty: they take no line.
  let linesToSkip = before.reduce((sum, e) => sum + (e.properties.length > 0 ? e.count : 0), 0);
  let done = 0;
  let lineNumber = 0;
  let carry = '';
  // Token position of property i on a line (shifts when list properties come first).
  const tokenIndex = (tokens: string[], property: number): number => {
    if (!hasLists) return property;
    let at = 0;
    for (let i = 0; i < property; i++)
      at += vertex.properties[i].listCountType === null ? 1 : 1 + Number(tokens[at]);
    return at;
  };
  const parse = (token: string | undefined): number => {
    const value = token === undefined ? NaN : Number(token);
    if (!Number.isNaN(value)) return value;
    // Other writers spell non-finite values nan, inf, -inf, Infinity: read them
    // (the import drops such points and says how many) rather than call the file damaged.
    const nonFinite = token === undefined ? null : NON_FINITE_WORDS.exec(token);
    if (!nonFinite) throw corruptPly(`vertex ${done + 1} (data line ${lineNumber}) is not a list of numbers`);
    if (nonFinite[2].toLowerCase() === 'nan') return NaN;
    return nonFinite[1] === '-' ? -Infinity : Infinity;
  };
  const onLine = (line: string): void => {
    lineNumber++;
    const text = line.trim();
    if (text === '') return;
    if (linesToSkip > 0) {
      linesToSkip--;
      return;
    }
    if (done >= count) return;
    const tokens = text.split(/\s+/);
    for (let axis = 0; axis < 3; axis++)
      positions[done * 3 + axis] = parse(tokens[tokenIndex(tokens, layout.position[axis])]);
    if (colors && layout.color && colorConverters)
      for (let c = 0; c < 3; c++)
        colors[done * 3 + c] = colorConverters[c](parse(tokens[tokenIndex(tokens, layout.color[c])]));
    done++;
  };
  while (done < count) {
    const more = await reader.fill();
    const text = carry + reader.buffer.toString('latin1', reader.start, reader.end);
    reader.start = reader.end;
    const lines = text.split('\n');
    carry = more ? (lines.pop() ?? '') : '';
    if (carry.length > MAX_RECORD_BYTES)
      throw corruptPly(
        `data line ${lineNumber + lines.length + 1} is longer than ${MAX_RECORD_BYTES >> 20} MB`,
      );
    for (const line of lines) {
      onLine(line);
      if (done >= count) break;
    }
    if (!more) break; // the last line (without a newline) was in `lines`
  }
  if (done < count) throw corruptPly(`it ends after ${done} of ${count} points (the file is truncated)`);
  return { positions, colors, count };
}
