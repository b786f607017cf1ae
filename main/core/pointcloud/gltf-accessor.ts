// glTF accessors, checked against the real buffer sizes and decoded to floats.
//
// Every number an accessor claims (count, byteOffset, byteStride, sparse
// count, the bufferView's range) is checked before a byte is read or an array
// allocated: a count of 1e9 over a 48-byte view, or a sparse accessor that
// claims 3e8 points in a 528-byte file, is refused rather than believed.
// Integer components are dequantised the way glTF 2.0 §3.11 says (normalized
// ints to -1..1 / 0..1, others as their value), which is what
// KHR_mesh_quantization files (gltfpack's default) need; the scale and offset
// gltfpack moves into node matrices are applied by the reader.

import type { GltfJson } from './gltf-source';

type ComponentType = 5120 | 5121 | 5122 | 5123 | 5125 | 5126;

const COMPONENT_BYTES: Record<ComponentType, number> = {
  5120: 1,
  5121: 1,
  5122: 2,
  5123: 2,
  5125: 4,
  5126: 4,
};
const TYPE_COMPONENTS: Record<string, number> = {
  SCALAR: 1,
  VEC2: 2,
  VEC3: 3,
  VEC4: 4,
  MAT2: 4,
  MAT3: 9,
  MAT4: 16,
};

export interface CheckedAccessor {
  index: number;
  count: number;
  components: number;
  componentType: ComponentType;
  normalized: boolean;
  /** The bytes of the first element onwards, and the distance between elements; null: all zeros. */
  data: { bytes: Uint8Array; stride: number } | null;
  sparse: {
    count: number;
    indices: { bytes: Uint8Array; componentType: 5121 | 5123 | 5125 };
    values: Uint8Array;
  } | null;
}

export type Fail = (detail: string) => Error;

const isIndex = (value: unknown, length: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < length;

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function list(json: GltfJson, key: string, fail: Fail): Array<Record<string, unknown>> {
  const value = json[key] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null))
    throw fail(`"${key}" is not a list of objects`);
  return value as Array<Record<string, unknown>>;
}

/** The bytes of bufferView `index`, checked against its buffer. */
function viewBytes(
  json: GltfJson,
  buffers: Uint8Array[],
  index: unknown,
  fail: Fail,
): { bytes: Uint8Array; byteStride: number | undefined } {
  const views = list(json, 'bufferViews', fail);
  if (!isIndex(index, views.length)) throw fail(`bufferView ${String(index)} does not exist`);
  const view = views[index];
  if (!isIndex(view.buffer, buffers.length))
    throw fail(`bufferView ${index} names a buffer that does not exist`);
  const offset = view.byteOffset ?? 0;
  const length = view.byteLength;
  if (!isCount(offset) || !isCount(length))
    throw fail(`bufferView ${index} has no valid byteOffset/byteLength`);
  const buffer = buffers[view.buffer];
  if (offset + length > buffer.length)
    throw fail(
      `bufferView ${index} (bytes ${offset}..${offset + length}) runs past its ${buffer.length}-byte buffer`,
    );
  const stride = view.byteStride;
  if (stride !== undefined && (!isCount(stride) || stride < 4 || stride > 252 || stride % 4 !== 0))
    throw fail(`bufferView ${index} has byteStride ${String(stride)} (glTF allows 4..252, multiples of 4)`);
  return { bytes: buffer.subarray(offset, offset + length), byteStride: stride };
}

/**
 * Checks accessor `index` and returns where its data is. `maxCount` bounds an
 * accessor whose elements are not all in a buffer (sparse over zeros).
 */
export function checkAccessor(
  json: GltfJson,
  buffers: Uint8Array[],
  index: unknown,
  maxCount: number,
  fail: Fail,
): CheckedAccessor {
  const accessors = list(json, 'accessors', fail);
  if (!isIndex(index, accessors.length)) throw fail(`accessor ${String(index)} does not exist`);
  const a = accessors[index];
  const componentType = a.componentType as ComponentType;
  const componentBytes = COMPONENT_BYTES[componentType];
  const components = typeof a.type === 'string' ? TYPE_COMPONENTS[a.type] : undefined;
  if (!componentBytes || !components) throw fail(`accessor ${index} has an unknown type or componentType`);
  const count = a.count;
  if (!isCount(count) || count < 1) throw fail(`accessor ${index} has no valid count`);
  const elementBytes = components * componentBytes;
  let data: CheckedAccessor['data'] = null;
  if (a.bufferView !== undefined) {
    const view = viewBytes(json, buffers, a.bufferView, fail);
    const offset = a.byteOffset ?? 0;
    if (!isCount(offset) || offset % componentBytes !== 0)
      throw fail(`accessor ${index} has a bad byteOffset`);
    const stride = view.byteStride ?? elementBytes;
    if (stride < elementBytes) throw fail(`accessor ${index}'s elements overlap (byteStride ${stride})`);
    const needed = offset + stride * (count - 1) + elementBytes;
    if (needed > view.bytes.length)
      throw fail(
        `accessor ${index} claims ${count} elements (${needed} bytes) but its bufferView holds ${view.bytes.length} bytes`,
      );
    data = { bytes: view.bytes.subarray(offset), stride };
  } else if (count > maxCount) {
    throw fail(
      `accessor ${index} claims ${count} elements without data for them, more than the file's size allows`,
    );
  }
  let sparse: CheckedAccessor['sparse'] = null;
  if (a.sparse !== undefined) {
    if (typeof a.sparse !== 'object' || a.sparse === null)
      throw fail(`accessor ${index} has a bad sparse entry`);
    const s = a.sparse as {
      count?: unknown;
      indices?: Record<string, unknown>;
      values?: Record<string, unknown>;
    };
    if (!isCount(s.count) || s.count < 1 || s.count > count)
      throw fail(`accessor ${index} has a bad sparse count`);
    const indexType = s.indices?.componentType;
    if (indexType !== 5121 && indexType !== 5123 && indexType !== 5125)
      throw fail(`accessor ${index} has sparse indices of a bad type`);
    const indicesView = viewBytes(json, buffers, s.indices?.bufferView, fail);
    const indicesOffset = s.indices?.byteOffset ?? 0;
    const valuesView = viewBytes(json, buffers, s.values?.bufferView, fail);
    const valuesOffset = s.values?.byteOffset ?? 0;
    if (!isCount(indicesOffset) || !isCount(valuesOffset))
      throw fail(`accessor ${index} has bad sparse offsets`);
    const indicesEnd = indicesOffset + s.count * COMPONENT_BYTES[indexType];
    const valuesEnd = valuesOffset + s.count * elementBytes;
    if (indicesEnd > indicesView.bytes.length || valuesEnd > valuesView.bytes.length)
      throw fail(`accessor ${index}'s sparse data runs past its bufferViews`);
    sparse = {
      count: s.count,
      indices: { bytes: indicesView.bytes.subarray(indicesOffset, indicesEnd), componentType: indexType },
      values: valuesView.bytes.subarray(valuesOffset, valuesEnd),
    };
  }
  return {
    index,
    count,
    components,
    componentType,
    normalized: a.normalized === true,
    data,
    sparse,
  };
}

/** Checks every accessor and bufferView of the file, used or not. */
export function checkAllAccessors(json: GltfJson, buffers: Uint8Array[], maxCount: number, fail: Fail): void {
  const views = list(json, 'bufferViews', fail);
  for (let i = 0; i < views.length; i++) viewBytes(json, buffers, i, fail);
  const accessors = list(json, 'accessors', fail);
  for (let i = 0; i < accessors.length; i++) checkAccessor(json, buffers, i, maxCount, fail);
}

type ComponentReader = (view: DataView, offset: number) => number;

/** Reads one component as glTF defines its value (§3.11: normalized ints map to -1..1 or 0..1). */
function componentReader(type: ComponentType, normalized: boolean): ComponentReader {
  switch (type) {
    case 5126:
      return (v, o) => v.getFloat32(o, true);
    case 5120:
      return normalized ? (v, o) => Math.max(v.getInt8(o) / 127, -1) : (v, o) => v.getInt8(o);
    case 5121:
      return normalized ? (v, o) => v.getUint8(o) / 255 : (v, o) => v.getUint8(o);
    case 5122:
      return normalized ? (v, o) => Math.max(v.getInt16(o, true) / 32767, -1) : (v, o) => v.getInt16(o, true);
    case 5123:
      return normalized ? (v, o) => v.getUint16(o, true) / 65535 : (v, o) => v.getUint16(o, true);
    case 5125:
      return normalized ? (v, o) => v.getUint32(o, true) / 4294967295 : (v, o) => v.getUint32(o, true);
  }
}

const asView = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Writes the accessor's first `take` components of each element, as floats,
 * into out[at..]: `take` components per element, elements one after another.
 * Calls `between` every `slice` elements (to yield and to honour cancel).
 */
export async function decodeAccessor(
  accessor: CheckedAccessor,
  take: number,
  out: Float32Array,
  at: number,
  between: () => Promise<void>,
  fail: Fail,
  slice = 1 << 20,
): Promise<void> {
  const { count, components, componentType } = accessor;
  const read = componentReader(componentType, accessor.normalized);
  const componentBytes = COMPONENT_BYTES[componentType];
  if (accessor.data) {
    const view = asView(accessor.data.bytes);
    const { stride } = accessor.data;
    for (let first = 0; first < count; first += slice) {
      if (first > 0) await between();
      const end = Math.min(count, first + slice);
      for (let i = first; i < end; i++)
        for (let c = 0; c < take; c++) out[at + i * take + c] = read(view, i * stride + c * componentBytes);
    }
  } else {
    out.fill(0, at, at + count * take);
  }
  if (accessor.sparse) {
    const { indices, values } = accessor.sparse;
    const indexView = asView(indices.bytes);
    const valueView = asView(values);
    const indexBytes = COMPONENT_BYTES[indices.componentType];
    const readIndex = componentReader(indices.componentType, false);
    const elementBytes = components * componentBytes;
    for (let s = 0; s < accessor.sparse.count; s++) {
      const target = readIndex(indexView, s * indexBytes);
      if (target >= count)
        throw fail(`accessor ${accessor.index} has a sparse index ${target} past its ${count} elements`);
      for (let c = 0; c < take; c++)
        out[at + target * take + c] = read(valueView, s * elementBytes + c * componentBytes);
    }
  }
}
