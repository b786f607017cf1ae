// PointCloud -> PLY (binary little endian or ASCII), x/y/z as float and
// red/green/blue as uchar when the cloud has colours. Streams through one
// 1 MB buffer: a 10M-point cloud is never copied whole. Atomic (atomic-file.ts).
//
// Axes: OpenCV by default, or y-up / z-up on request (axes.ts); the header
// says which in a comment, and readPly turns our own y-up/z-up files back.
// Points with a NaN or infinite coordinate are never written (readers
// disagree on "nan"/"inf"), and the header's count is the points written.
//
// ASCII numbers are the shortest decimals that read back as the same float32,
// so binary and ASCII exports re-import identically.

import { ChunkedFileWriter, writeFileAtomic } from './atomic-file';
import { openCvToUpAxis, type UpAxis } from './axes';
import { plyAxesComment } from './ply-header';
import { taskCheckpoint, type PointCloud, type PointCloudTaskOptions } from './point-cloud';

export type PlyEncoding = 'binary' | 'ascii';

const POINTS_PER_CHUNK = 1 << 16;

export function plyHeaderText(
  cloud: PointCloud,
  encoding: PlyEncoding,
  comments: string[] = [],
  up: UpAxis = 'opencv',
  pointCount: number = cloud.count,
): string {
  const lines = [
    'ply',
    `format ${encoding === 'ascii' ? 'ascii' : 'binary_little_endian'} 1.0`,
    `comment ${plyAxesComment(up)}`,
    ...comments.map((c) => `comment ${c.replace(/[\r\n]/g, ' ')}`),
    `element vertex ${pointCount}`,
    'property float x',
    'property float y',
    'property float z',
  ];
  if (cloud.colors) lines.push('property uchar red', 'property uchar green', 'property uchar blue');
  lines.push('end_header');
  return `${lines.join('\n')}\n`;
}

/** Shortest decimal text that parses back to exactly this float32 value. */
export function formatFloat32(value: number): string {
  if (Object.is(value, -0)) return '-0';
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  // 7 significant digits already round-trip most float32 values (String(Number(...))
  // then drops trailing zeros); 9 always do.
  for (let digits = 7; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

/** Points whose three coordinates are finite: the ones a PLY export writes. */
export function countFinitePoints(positions: Float32Array, count: number): number {
  let finite = 0;
  for (let p = 0; p < count * 3; p += 3)
    if (
      positions[p] -
        positions[p] +
        (positions[p + 1] - positions[p + 1]) +
        (positions[p + 2] - positions[p + 2]) ===
      0
    )
      finite++;
  return finite;
}

export async function writePly(
  path: string,
  cloud: PointCloud,
  encoding: PlyEncoding = 'binary',
  opts: PointCloudTaskOptions & { upAxis?: UpAxis } = {},
): Promise<{ bytes: number; pointCount: number }> {
  const checkpoint = taskCheckpoint(opts, 'write', 'Export');
  if (cloud.positions.length < cloud.count * 3 || (cloud.colors && cloud.colors.length < cloud.count * 3))
    throw new RangeError('point cloud arrays are shorter than its count');
  const up = opts.upAxis ?? 'opencv';
  const pointCount = countFinitePoints(cloud.positions, cloud.count);
  const { bytes } = await writeFileAtomic(path, async (file) => {
    const out = new ChunkedFileWriter(file);
    await out.writeBytes(Buffer.from(plyHeaderText(cloud, encoding, [], up, pointCount), 'latin1'));
    const { positions, colors, count } = cloud;
    const xyz = new Float32Array(3);
    const isFinitePoint = (p: number): boolean =>
      positions[p] -
        positions[p] +
        (positions[p + 1] - positions[p + 1]) +
        (positions[p + 2] - positions[p + 2]) ===
      0;
    if (encoding === 'binary') {
      const stride = colors ? 15 : 12;
      for (let first = 0; first < count; first += POINTS_PER_CHUNK) {
        checkpoint(first / Math.max(1, count));
        const n = Math.min(POINTS_PER_CHUNK, count - first);
        const { buffer, offset } = await out.reserve(n * stride);
        const view = new DataView(buffer.buffer, buffer.byteOffset + offset, n * stride);
        let written = 0;
        for (let i = 0; i < n; i++) {
          const p = (first + i) * 3;
          if (!isFinitePoint(p)) continue;
          const at = written++ * stride;
          openCvToUpAxis(up, positions[p], positions[p + 1], positions[p + 2], xyz, 0);
          view.setFloat32(at, xyz[0], true);
          view.setFloat32(at + 4, xyz[1], true);
          view.setFloat32(at + 8, xyz[2], true);
          if (colors) {
            view.setUint8(at + 12, colors[p]);
            view.setUint8(at + 13, colors[p + 1]);
            view.setUint8(at + 14, colors[p + 2]);
          }
        }
        out.giveBack((n - written) * stride);
      }
    } else {
      for (let first = 0; first < count; first += POINTS_PER_CHUNK) {
        checkpoint(first / Math.max(1, count));
        const n = Math.min(POINTS_PER_CHUNK, count - first);
        const lines: string[] = [];
        for (let i = 0; i < n; i++) {
          const p = (first + i) * 3;
          if (!isFinitePoint(p)) continue;
          openCvToUpAxis(up, positions[p], positions[p + 1], positions[p + 2], xyz, 0);
          const text = `${formatFloat32(xyz[0])} ${formatFloat32(xyz[1])} ${formatFloat32(xyz[2])}`;
          lines.push(colors ? `${text} ${colors[p]} ${colors[p + 1]} ${colors[p + 2]}\n` : `${text}\n`);
        }
        await out.writeBytes(Buffer.from(lines.join(''), 'latin1'));
      }
    }
    await out.flush();
    checkpoint(1);
  });
  return { bytes, pointCount };
}
