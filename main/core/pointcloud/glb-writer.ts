// PointCloud (+ cameras) -> GLB, streaming.
//
// Why not simply `NodeIO.writeBinary(document)`: for 10M points it needs the
// converted positions (120 MB), an interleaved vertex buffer (160 MB) and then
// the concatenated GLB (160 MB) in memory at once, and takes ~2.8 s
// (measured: +282 MB peak with writeJSON alone, see main/bench/media-bench.ts).
// Instead:
//   1. The document is built with @gltf-transform/core exactly as for a small
//      cloud (glb-document.ts), but with a one-point stand-in for the bulk
//      arrays; gltf-transform's writer turns it into glTF JSON and decides the
//      vertex layout (interleaved bufferView, byteStride, attribute offsets).
//   2. We scale that JSON to the real point count (accessor count, POSITION
//      min/max, bufferView and buffer byteLength), checking the layout is the
//      one we can fill.
//   3. We stream the BIN chunk into that layout in 1 MB pieces, converting
//      positions to glTF axes on the way (axes.ts).
// Peak extra memory is a few MB whatever the cloud size. Atomic (atomic-file.ts).

import { Format, NodeIO, type GLTF } from '@gltf-transform/core';
import type { CameraInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { ChunkedFileWriter, writeFileAtomic } from './atomic-file';
import { SRGB_BYTE_TO_LINEAR_U16 } from './color-space';
import { buildPointCloudDocument } from './glb-document';
import { taskCheckpoint, type PointCloud, type PointCloudTaskOptions } from './point-cloud';

const GLB_MAGIC = 0x46546c67; // "glTF"
const GLB_VERSION = 2;
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"
const POINTS_PER_CHUNK = 1 << 16;

const pad4 = (n: number): number => (n + 3) & ~3;

interface VertexLayout {
  stride: number;
  positionOffset: number;
  colorOffset: number | null;
}

function layoutError(detail: string): StudioError {
  return new StudioError(
    'internal',
    `GLB export: unexpected vertex layout from @gltf-transform/core (${detail}).`,
    'Export as PLY meanwhile, and report this.',
  );
}

/** Scale the one-point JSON to the finite points of the cloud; returns where each attribute sits in a vertex record. */
function scaleJsonToCloud(json: GLTF.IGLTF, cloud: PointCloud, bounds: GltfBounds): VertexLayout {
  const attributes = json.meshes?.[0]?.primitives[0]?.attributes;
  const accessors = json.accessors ?? [];
  const position = attributes?.POSITION === undefined ? undefined : accessors[attributes.POSITION];
  const color = attributes?.COLOR_0 === undefined ? undefined : accessors[attributes.COLOR_0];
  if (!position || (cloud.colors !== null) !== (color !== undefined)) throw layoutError('attributes');
  if (json.bufferViews?.length !== 1 || json.buffers?.length !== 1)
    throw layoutError('expected one interleaved bufferView');
  if (accessors.some((a) => a.bufferView !== 0)) throw layoutError('accessor outside the vertex bufferView');
  const view = json.bufferViews[0];
  const stride = view.byteStride ?? (color ? 0 : 12);
  if (stride < 12 || stride % 4 !== 0 || (view.byteOffset ?? 0) !== 0)
    throw layoutError(`byteStride ${stride}`);

  position.count = bounds.finiteCount;
  position.min = bounds.min;
  position.max = bounds.max;
  if (color) color.count = bounds.finiteCount;
  view.byteLength = stride * bounds.finiteCount;
  json.buffers[0].byteLength = view.byteLength;
  return {
    stride,
    positionOffset: position.byteOffset ?? 0,
    colorOffset: color ? (color.byteOffset ?? 0) : null,
  };
}

interface GltfBounds {
  min: number[];
  max: number[];
  /** Points whose three coordinates are finite: glTF forbids NaN/Infinity in accessors, so only these are written. */
  finiteCount: number;
}

const isFinitePoint = (positions: Float32Array, p: number): boolean =>
  Number.isFinite(positions[p]) && Number.isFinite(positions[p + 1]) && Number.isFinite(positions[p + 2]);

/** Bounds of the finite points in glTF axes (y and z negated), for POSITION min/max. */
function glTFBounds(positions: Float32Array, count: number): GltfBounds {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  let finiteCount = 0;
  for (let i = 0; i < count * 3; i += 3) {
    if (!isFinitePoint(positions, i)) continue;
    finiteCount++;
    const x = positions[i];
    const y = -positions[i + 1];
    const z = -positions[i + 2];
    if (x < min[0]) min[0] = x;
    if (x > max[0]) max[0] = x;
    if (y < min[1]) min[1] = y;
    if (y > max[1]) max[1] = y;
    if (z < min[2]) min[2] = z;
    if (z > max[2]) max[2] = z;
  }
  return { min, max, finiteCount };
}

export async function writeGlb(
  path: string,
  cloud: PointCloud,
  cameras: CameraInfo[] = [],
  opts: PointCloudTaskOptions = {},
): Promise<{ bytes: number; pointCount: number }> {
  const checkpoint = taskCheckpoint(opts, 'write', 'Export');
  checkpoint(0);
  if (cloud.positions.length < cloud.count * 3 || (cloud.colors && cloud.colors.length < cloud.count * 3))
    throw new RangeError('point cloud arrays are shorter than its count');
  const bounds = glTFBounds(cloud.positions, cloud.count);
  const standIn: PointCloud = {
    positions: new Float32Array(3),
    colors: cloud.colors ? new Uint8Array(3) : null,
    count: Math.min(bounds.finiteCount, 1),
  };
  const { json } = await new NodeIO().writeJSON(buildPointCloudDocument(standIn, cameras), {
    format: Format.GLB,
  });
  // gltf-transform writes zfar 100 by default; without zfar a glTF camera is an
  // infinite projection, which suits scenes of any size.
  for (const camera of json.cameras ?? []) if (camera.perspective) delete camera.perspective.zfar;
  const layout = bounds.finiteCount > 0 ? scaleJsonToCloud(json, cloud, bounds) : null;
  const binLength = layout ? layout.stride * bounds.finiteCount : 0;

  const jsonBytes = Buffer.from(JSON.stringify(json), 'utf8');
  const jsonChunkLength = pad4(jsonBytes.length);
  const total = 12 + 8 + jsonChunkLength + (layout ? 8 + binLength : 0);

  const { bytes } = await writeFileAtomic(path, async (file) => {
    const out = new ChunkedFileWriter(file);
    const head = Buffer.alloc(20);
    head.writeUInt32LE(GLB_MAGIC, 0);
    head.writeUInt32LE(GLB_VERSION, 4);
    head.writeUInt32LE(total, 8);
    head.writeUInt32LE(jsonChunkLength, 12);
    head.writeUInt32LE(CHUNK_JSON, 16);
    await out.writeBytes(head);
    await out.writeBytes(jsonBytes);
    await out.writeBytes(Buffer.alloc(jsonChunkLength - jsonBytes.length, 0x20)); // JSON pads with spaces
    if (layout) {
      const binHead = Buffer.alloc(8);
      binHead.writeUInt32LE(binLength, 0); // stride is a multiple of 4: no padding needed
      binHead.writeUInt32LE(CHUNK_BIN, 4);
      await out.writeBytes(binHead);
      await writeVertices(out, cloud, layout, checkpoint);
    }
    await out.flush();
    checkpoint(1);
  });
  // The JSON's counts and the BIN chunk both hold exactly the finite points.
  return { bytes, pointCount: bounds.finiteCount };
}

async function writeVertices(
  out: ChunkedFileWriter,
  cloud: PointCloud,
  layout: VertexLayout,
  checkpoint: (progress: number) => void,
): Promise<void> {
  const { positions, colors, count } = cloud;
  const { stride, positionOffset, colorOffset } = layout;
  for (let first = 0; first < count; first += POINTS_PER_CHUNK) {
    checkpoint(first / count);
    const n = Math.min(POINTS_PER_CHUNK, count - first);
    const { buffer, offset } = await out.reserve(n * stride);
    buffer.fill(0, offset, offset + n * stride); // padding bytes are zero, not stale memory
    const view = new DataView(buffer.buffer, buffer.byteOffset + offset, n * stride);
    let written = 0;
    for (let i = 0; i < n; i++) {
      const p = (first + i) * 3;
      if (!isFinitePoint(positions, p)) continue;
      const at = written++ * stride;
      // R_x(180°): OpenCV world -> glTF world (axes.ts). -0 stays -0, so it round-trips.
      view.setFloat32(at + positionOffset, positions[p], true);
      view.setFloat32(at + positionOffset + 4, -positions[p + 1], true);
      view.setFloat32(at + positionOffset + 8, -positions[p + 2], true);
      if (colors && colorOffset !== null) {
        // glTF colours are linear (color-space.ts); ours are sRGB bytes.
        view.setUint16(at + colorOffset, SRGB_BYTE_TO_LINEAR_U16[colors[p]], true);
        view.setUint16(at + colorOffset + 2, SRGB_BYTE_TO_LINEAR_U16[colors[p + 1]], true);
        view.setUint16(at + colorOffset + 4, SRGB_BYTE_TO_LINEAR_U16[colors[p + 2]], true);
      }
    }
    out.giveBack((n - written) * stride);
  }
}
