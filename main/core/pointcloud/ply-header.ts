// The PLY header: format, elements and their properties, up to `end_header`.
// (Greg Turk's PLY format, as written by Open3D, CloudCompare, MeshLab, PCL.)

import { StudioError } from '../../common/errors';
import { UP_AXIS_DESCRIPTIONS, type UpAxis } from './axes';

export type PlyScalarType =
  'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';
export type PlyFormat = 'ascii' | 'binary_little_endian' | 'binary_big_endian';

export interface PlyProperty {
  name: string;
  type: PlyScalarType;
  /** For `property list <countType> <type> name`: the type of the item count. */
  listCountType: PlyScalarType | null;
}

export interface PlyElement {
  name: string;
  count: number;
  properties: PlyProperty[];
}

export interface PlyHeader {
  format: PlyFormat;
  elements: PlyElement[];
  /** Bytes from the start of the file to the first data byte. */
  headerBytes: number;
  /** The axes the file says it uses: ours name them in a comment; any other file is taken as OpenCV. */
  upAxis: UpAxis;
}

/** The comment that names a G2 Studio export's axes (the reader turns y-up/z-up files back). */
export const plyAxesComment = (up: UpAxis): string => `written by G2 Studio (${UP_AXIS_DESCRIPTIONS[up]})`;

const AXES_BY_COMMENT = new Map(
  (Object.keys(UP_AXIS_DESCRIPTIONS) as UpAxis[]).map((up) => [plyAxesComment(up), up]),
);

const TYPE_ALIASES: Record<string, PlyScalarType> = {
  char: 'int8',
  int8: 'int8',
  uchar: 'uint8',
  uint8: 'uint8',
  short: 'int16',
  int16: 'int16',
  ushort: 'uint16',
  uint16: 'uint16',
  int: 'int32',
  int32: 'int32',
  uint: 'uint32',
  uint32: 'uint32',
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
};

export const PLY_TYPE_BYTES: Record<PlyScalarType, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

/** Longest header we accept; real headers are a few hundred bytes. */
export const MAX_PLY_HEADER_BYTES = 1 << 20;

export function corruptPly(detail: string): StudioError {
  return new StudioError(
    'corrupt-media',
    `The PLY file is damaged: ${detail}.`,
    'Export the point cloud again from the program that made it.',
  );
}

/** Index just past "end_header\n" (or "\r\n"), or -1 when not in `head`. */
export function findHeaderEnd(head: Buffer): number {
  const marker = head.indexOf('end_header');
  if (marker < 0) return -1;
  const newline = head.indexOf(0x0a, marker);
  return newline < 0 ? -1 : newline + 1;
}

function scalarType(word: string | undefined, line: string): PlyScalarType {
  const type = word === undefined ? undefined : TYPE_ALIASES[word];
  if (!type) throw corruptPly(`unknown property type in "${line}"`);
  return type;
}

export function parsePlyHeader(head: Buffer): PlyHeader {
  const end = findHeaderEnd(head);
  if (end < 0) throw corruptPly('the header has no end_header line');
  const lines = head
    .toString('latin1', 0, end)
    .split('\n')
    .map((line) => line.trim());
  if (lines[0] !== 'ply') throw corruptPly('it does not start with "ply"');
  let format: PlyFormat | null = null;
  let upAxis: UpAxis = 'opencv';
  const elements: PlyElement[] = [];
  for (const line of lines.slice(1)) {
    const words = line.split(/\s+/);
    switch (words[0]) {
      case 'comment':
        upAxis = AXES_BY_COMMENT.get(line.slice('comment '.length)) ?? upAxis;
        break;
      case '':
      case 'obj_info':
        break;
      case 'format':
        if (words[1] !== 'ascii' && words[1] !== 'binary_little_endian' && words[1] !== 'binary_big_endian')
          throw corruptPly(`unknown format "${words[1] ?? ''}"`);
        format = words[1];
        break;
      case 'element': {
        const count = Number(words[2]);
        if (!words[1] || !Number.isSafeInteger(count) || count < 0)
          throw corruptPly(`bad element line "${line}"`);
        elements.push({ name: words[1], count, properties: [] });
        break;
      }
      case 'property': {
        const element = elements.at(-1);
        if (!element) throw corruptPly(`property before any element: "${line}"`);
        if (words[1] === 'list') {
          if (!words[4]) throw corruptPly(`bad list property "${line}"`);
          const listCountType = scalarType(words[2], line);
          // A list's length is a count of items: a float there is a damaged header.
          if (listCountType === 'float32' || listCountType === 'float64')
            throw corruptPly(`a list length must be an integer type in "${line}"`);
          element.properties.push({ name: words[4], type: scalarType(words[3], line), listCountType });
        } else {
          if (!words[2]) throw corruptPly(`bad property "${line}"`);
          element.properties.push({ name: words[2], type: scalarType(words[1], line), listCountType: null });
        }
        break;
      }
      case 'end_header':
        if (!format) throw corruptPly('the header has no format line');
        return { format, elements, headerBytes: end, upAxis };
      default:
        throw corruptPly(`unexpected header line "${line.slice(0, 80)}"`);
    }
  }
  throw corruptPly('the header has no end_header line');
}

/**
 * Fewest bytes one binary record of `element` takes: every fixed property, and
 * the length field of every list (an empty list). 0 for an element without
 * properties, whose records take no bytes at all.
 */
export function minRecordBytes(element: PlyElement): number {
  return element.properties.reduce((sum, p) => sum + PLY_TYPE_BYTES[p.listCountType ?? p.type], 0);
}

/** Bytes of one binary record when every record has the same size (no lists), else null. */
export function fixedRecordBytes(element: PlyElement): number | null {
  return element.properties.every((p) => p.listCountType === null) ? minRecordBytes(element) : null;
}
