// GLB / glTF -> PointCloud.
//
// Points come from POINTS primitives (every node of the default scene, with
// its world transform applied); a file without any POINTS primitive (a mesh)
// gives its mesh vertices instead. Positions are converted from glTF axes to the
// engine's OpenCV axes with the same R_x(180°) the writer applies (axes.ts), so
// export -> import round-trips exactly. COLOR_0 may be float, normalized uint8
// or normalized uint16, vec3 or vec4 (alpha dropped); it is linear in glTF and
// becomes sRGB bytes here (color-space.ts). Quantised attributes
// (KHR_mesh_quantization) are dequantised (gltf-accessor.ts).
//
// The file is read by our own small reader rather than a general glTF library
// because every size in it must be checked before it is believed
// (gltf-source.ts, gltf-accessor.ts): the file is untrusted input.

import { basename } from 'node:path';
import { StudioError } from '../../common/errors';
import { rotateX180InPlace } from './axes';
import { linearToSrgbByte } from './color-space';
import { checkAccessor, checkAllAccessors, decodeAccessor, type CheckedAccessor } from './gltf-accessor';
import { corruptGltf, loadGltfSource, type GltfJson } from './gltf-source';
import {
  allocatePointArrays,
  taskCheckpoint,
  yieldToEventLoop,
  type PointCloud,
  type PointCloudTaskOptions,
} from './point-cloud';

const POINTS_MODE = 0;
const TRIANGLES_MODE = 4;
/** Compression extensions whose data we cannot decode: the accessors hold nothing without them. */
const COMPRESSION_EXTENSIONS = [
  'KHR_draco_mesh_compression',
  'EXT_meshopt_compression',
  'KHR_meshopt_compression',
];
/** Deepest node hierarchy followed; real scenes are a few levels deep. */
const MAX_NODE_DEPTH = 256;

interface Part {
  positions: CheckedAccessor;
  colors: CheckedAccessor | null;
  /** Column-major 4x4, as glTF stores it. */
  worldMatrix: number[];
}

const IDENTITY = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const isIdentity = (m: number[]): boolean => m.every((v, i) => v === IDENTITY[i]);

function multiply(a: number[], b: number[]): number[] {
  const out = new Array<number>(16).fill(0);
  for (let col = 0; col < 4; col++)
    for (let row = 0; row < 4; row++)
      for (let k = 0; k < 4; k++) out[col * 4 + row] += a[k * 4 + row] * b[col * 4 + k];
  return out;
}

const finiteNumbers = (value: unknown, length: number): value is number[] =>
  Array.isArray(value) &&
  value.length === length &&
  value.every((v) => typeof v === 'number' && Number.isFinite(v));

/** A node's local matrix: `matrix`, or translation · rotation · scale. */
function localMatrix(node: Record<string, unknown>, index: number, fail: (d: string) => Error): number[] {
  if (node.matrix !== undefined) {
    if (!finiteNumbers(node.matrix, 16)) throw fail(`node ${index} has a bad matrix`);
    return node.matrix;
  }
  const t = node.translation ?? [0, 0, 0];
  const r = node.rotation ?? [0, 0, 0, 1];
  const s = node.scale ?? [1, 1, 1];
  if (!finiteNumbers(t, 3) || !finiteNumbers(r, 4) || !finiteNumbers(s, 3))
    throw fail(`node ${index} has a bad translation, rotation or scale`);
  const [x, y, z, w] = r;
  // Rotation matrix of a unit quaternion, columns scaled by s; column-major.
  return [
    (1 - 2 * (y * y + z * z)) * s[0], 2 * (x * y + z * w) * s[0], 2 * (x * z - y * w) * s[0], 0,
    2 * (x * y - z * w) * s[1], (1 - 2 * (x * x + z * z)) * s[1], 2 * (y * z + x * w) * s[1], 0,
    2 * (x * z + y * w) * s[2], 2 * (y * z - x * w) * s[2], (1 - 2 * (x * x + y * y)) * s[2], 0,
    t[0], t[1], t[2], 1,
  ]; // prettier-ignore
}

function objects(json: GltfJson, key: string, fail: (d: string) => Error): Array<Record<string, unknown>> {
  const value = json[key] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null))
    throw fail(`"${key}" is not a list of objects`);
  return value as Array<Record<string, unknown>>;
}

function collectParts(
  json: GltfJson,
  buffers: Uint8Array[],
  maxCount: number,
  fail: (d: string) => Error,
): { points: Part[]; vertices: Part[] } {
  const points: Part[] = [];
  const vertices: Part[] = [];
  const scenes = objects(json, 'scenes', fail);
  const nodes = objects(json, 'nodes', fail);
  const meshes = objects(json, 'meshes', fail);
  const sceneIndex = json.scene ?? 0;
  if (scenes.length === 0) return { points, vertices };
  if (
    typeof sceneIndex !== 'number' ||
    !Number.isInteger(sceneIndex) ||
    sceneIndex < 0 ||
    sceneIndex >= scenes.length
  )
    throw fail(`scene ${String(sceneIndex)} does not exist`);
  const childList = (value: unknown, what: string): number[] => {
    const list = value ?? [];
    if (
      !Array.isArray(list) ||
      list.some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= nodes.length)
    )
      throw fail(`${what} lists a node that does not exist`);
    return list as number[];
  };
  const onPath = new Set<number>();
  const visit = (index: number, parent: number[], depth: number): void => {
    // A node that is its own ancestor would make the walk endless.
    if (onPath.has(index) || depth > MAX_NODE_DEPTH)
      throw fail(`node ${index} is part of a cycle or too deep a hierarchy`);
    onPath.add(index);
    const node = nodes[index];
    const world = multiply(parent, localMatrix(node, index, fail));
    if (node.mesh !== undefined) {
      const mesh = typeof node.mesh === 'number' ? meshes[node.mesh] : undefined;
      if (!mesh) throw fail(`node ${index} names a mesh that does not exist`);
      const primitives = mesh.primitives;
      if (!Array.isArray(primitives)) throw fail(`mesh ${String(node.mesh)} has no primitives list`);
      for (const primitive of primitives as Array<Record<string, unknown> | null>) {
        const attributes = primitive?.attributes as Record<string, unknown> | undefined;
        if (attributes?.POSITION === undefined) continue;
        const positions = checkAccessor(json, buffers, attributes.POSITION, maxCount, fail);
        if (positions.components !== 3) throw fail('a POSITION attribute is not xyz');
        const colors =
          attributes.COLOR_0 === undefined
            ? null
            : checkAccessor(json, buffers, attributes.COLOR_0, maxCount, fail);
        if (colors && (colors.components < 3 || colors.components > 4 || colors.count < positions.count))
          throw fail('a COLOR_0 attribute is not rgb or rgba for every vertex');
        const mode = primitive?.mode ?? TRIANGLES_MODE;
        (mode === POINTS_MODE ? points : vertices).push({ positions, colors, worldMatrix: world });
      }
    }
    for (const child of childList(node.children, `node ${index}`)) visit(child, world, depth + 1);
    onPath.delete(index);
  };
  for (const root of childList(scenes[sceneIndex].nodes, `scene ${sceneIndex}`)) visit(root, IDENTITY, 0);
  return { points, vertices };
}

function refuseCompression(json: GltfJson, fileName: string): void {
  const required = Array.isArray(json.extensionsRequired) ? (json.extensionsRequired as unknown[]) : [];
  const compressed = required.find(
    (name) => typeof name === 'string' && COMPRESSION_EXTENSIONS.includes(name),
  );
  if (compressed)
    throw new StudioError(
      'unsupported-file',
      `"${fileName}" is compressed with ${String(compressed)}, which G2 Studio cannot decode.`,
      'Export it again without compression extensions (Draco, meshopt), or as PLY.',
    );
}

export async function readGltf(path: string, opts: PointCloudTaskOptions = {}): Promise<PointCloud> {
  const checkpoint = taskCheckpoint(opts, 'read', 'Point cloud import');
  checkpoint(0);
  const fileName = basename(path);
  const fail = (detail: string): StudioError => corruptGltf(fileName, detail);
  const { json, buffers, inputBytes } = await loadGltfSource(path);
  checkpoint(0.3);
  refuseCompression(json, fileName);
  // An accessor without a bufferView is zeros plus sparse values: it may claim any count.
  // Allow at most one element per byte of input, far above any real file, far below 3e8 in 528 bytes.
  checkAllAccessors(json, buffers, inputBytes, fail);
  const { points, vertices } = collectParts(json, buffers, inputBytes, fail);
  const parts = points.length > 0 ? points : vertices;
  const count = parts.reduce((sum, part) => sum + part.positions.count, 0);
  // Nodes may share a mesh, so a small file can still add up to many points.
  if (count > Math.max(inputBytes, 1))
    throw fail(`its nodes add up to ${count} points, more than its ${inputBytes} bytes can hold`);
  const anyColors = parts.some((part) => part.colors !== null);
  const { positions, colors } = allocatePointArrays(count, anyColors);
  colors?.fill(255);
  let decoded = 0;
  const between = async (): Promise<void> => {
    await yieldToEventLoop();
    checkpoint(0.3 + (0.7 * decoded) / Math.max(1, count));
  };
  let at = 0;
  for (const part of parts) {
    const n = part.positions.count;
    await decodeAccessor(part.positions, 3, positions, at * 3, between, fail);
    const m = part.worldMatrix;
    if (!isIdentity(m)) {
      for (let i = at * 3; i < (at + n) * 3; i += 3) {
        const x = positions[i];
        const y = positions[i + 1];
        const z = positions[i + 2];
        positions[i] = m[0] * x + m[4] * y + m[8] * z + m[12];
        positions[i + 1] = m[1] * x + m[5] * y + m[9] * z + m[13];
        positions[i + 2] = m[2] * x + m[6] * y + m[10] * z + m[14];
      }
    }
    if (colors && part.colors) {
      // Linear 0..1 floats for this part's points, then sRGB bytes.
      const linear = new Float32Array(n * 3);
      await decodeAccessor({ ...part.colors, count: n }, 3, linear, 0, between, fail);
      for (let i = 0; i < n * 3; i++) colors[at * 3 + i] = linearToSrgbByte(linear[i]);
    }
    at += n;
    decoded = at;
    await between();
  }
  rotateX180InPlace(positions); // glTF world -> OpenCV world (axes.ts)
  checkpoint(1);
  return { positions, colors, count };
}
