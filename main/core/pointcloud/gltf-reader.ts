// GLB / glTF -> PointCloud with @gltf-transform/core's NodeIO.
//
// Points come from POINTS primitives (every node of the default scene, with
// its world transform applied); a file without any POINTS primitive (a mesh)
// gives its mesh vertices instead. Positions are converted from glTF axes to the
// engine's OpenCV axes with the same R_x(180°) the writer applies (axes.ts), so
// export -> import round-trips exactly. COLOR_0 may be float, normalized uint8
// or normalized uint16, vec3 or vec4 (alpha dropped).

import { NodeIO, Primitive, type Accessor, type Document, type Node } from '@gltf-transform/core';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { StudioError } from '../../common/errors';
import { rotateX180InPlace } from './axes';
import { taskCheckpoint, type PointCloud, type PointCloudTaskOptions } from './point-cloud';

interface Part {
  positions: Accessor;
  colors: Accessor | null;
  worldMatrix: number[];
}

function isIdentity(m: number[]): boolean {
  return m.every((v, i) => v === (i % 5 === 0 ? 1 : 0));
}

function collectParts(doc: Document): { points: Part[]; vertices: Part[] } {
  const points: Part[] = [];
  const vertices: Part[] = [];
  const scene = doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0];
  const visit = (node: Node): void => {
    const mesh = node.getMesh();
    for (const primitive of mesh?.listPrimitives() ?? []) {
      const positions = primitive.getAttribute('POSITION');
      if (!positions) continue;
      const part = {
        positions,
        colors: primitive.getAttribute('COLOR_0'),
        worldMatrix: [...node.getWorldMatrix()],
      };
      (primitive.getMode() === Primitive.Mode.POINTS ? points : vertices).push(part);
    }
    node.listChildren().forEach(visit);
  };
  scene?.listChildren().forEach(visit);
  return { points, vertices };
}

/** A colour accessor's values as 0..255 bytes, rgb per element (alpha dropped). */
function colorBytes(accessor: Accessor, out: Uint8Array, at: number): void {
  const array = accessor.getArray();
  if (!array) return;
  const size = accessor.getElementSize();
  // glTF allows float 0..1, or normalized unsigned byte / short, for COLOR_0.
  const scale = array instanceof Float32Array ? 255 : array instanceof Uint16Array ? 1 / 257 : 1;
  for (let i = 0; i < accessor.getCount(); i++)
    for (let c = 0; c < 3; c++)
      out[(at + i) * 3 + c] = Math.round(Math.min(255, Math.max(0, array[i * size + c] * scale)));
}

export async function readGltf(path: string, opts: PointCloudTaskOptions = {}): Promise<PointCloud> {
  // NodeIO parses in one go: progress is coarse (start, parsed, done).
  const checkpoint = taskCheckpoint(opts, 'read', 'Point cloud import');
  checkpoint(0);
  const io = new NodeIO();
  let doc: Document;
  try {
    doc = path.toLowerCase().endsWith('.gltf')
      ? await io.read(path)
      : await io.readBinary(new Uint8Array(await readFile(path)));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const unsupported = /extension|draco|meshopt/i.test(reason);
    throw new StudioError(
      unsupported ? 'unsupported-file' : 'corrupt-media',
      `"${basename(path)}" cannot be read as glTF: ${reason}.`,
      unsupported
        ? 'Export it again without compression extensions (Draco, meshopt), or as PLY.'
        : 'Export the file again from the program that made it.',
      { cause: error },
    );
  }
  checkpoint(0.5);
  const { points, vertices } = collectParts(doc);
  const parts = points.length > 0 ? points : vertices;
  const count = parts.reduce((sum, part) => sum + part.positions.getCount(), 0);
  const positions = new Float32Array(count * 3);
  const anyColors = parts.some((part) => part.colors !== null);
  const colors = anyColors ? new Uint8Array(count * 3).fill(255) : null;
  let at = 0;
  for (const part of parts) {
    const n = part.positions.getCount();
    const source = part.positions.getArray();
    if (!source || part.positions.getElementSize() !== 3)
      throw new StudioError(
        'corrupt-media',
        `"${basename(path)}" has a POSITION attribute that is not xyz.`,
        'Export the file again.',
      );
    const target = positions.subarray(at * 3, (at + n) * 3);
    if (source instanceof Float32Array) target.set(source);
    else for (let i = 0; i < n * 3; i++) target[i] = Number(source[i]);
    const m = part.worldMatrix;
    if (!isIdentity(m)) {
      for (let i = 0; i < n * 3; i += 3) {
        const x = target[i];
        const y = target[i + 1];
        const z = target[i + 2];
        // column-major 4x4
        target[i] = m[0] * x + m[4] * y + m[8] * z + m[12];
        target[i + 1] = m[1] * x + m[5] * y + m[9] * z + m[13];
        target[i + 2] = m[2] * x + m[6] * y + m[10] * z + m[14];
      }
    }
    if (colors && part.colors) colorBytes(part.colors, colors, at);
    at += n;
  }
  rotateX180InPlace(positions); // glTF world -> OpenCV world (axes.ts)
  checkpoint(1);
  return { positions, colors, count };
}
