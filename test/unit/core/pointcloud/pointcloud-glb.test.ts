// GLB export checked by the Khronos glTF validator, and read back with our reader.
import { Accessor, Document, NodeIO, Primitive } from '@gltf-transform/core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PerspectiveCamera, Points } from 'three';
import { Vector3 } from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraInfo } from '../../../../main/common/domain';
import { exportPointCloud } from '../../../../main/core/pointcloud/export-point-cloud';
import { importPointCloud } from '../../../../main/core/pointcloud/import-point-cloud';
import type { PointCloud } from '../../../../main/core/pointcloud/point-cloud';

interface ValidationReport {
  issues: {
    numErrors: number;
    numWarnings: number;
    messages: Array<{ code: string; message: string; severity: number }>;
  };
}
// gltf-validator ships without type declarations: loaded with require and typed here.
const validator = createRequire(import.meta.url)('gltf-validator') as {
  validateBytes(data: Uint8Array, options?: { maxIssues?: number }): Promise<ValidationReport>;
};

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-glb-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function randomCloud(count: number, withColors: boolean): PointCloud {
  let state = 99;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const positions = new Float32Array(count * 3).map(() => (next() - 0.5) * 20);
  if (count > 0) positions[0] = -0;
  const colors = withColors ? new Uint8Array(count * 3).map(() => Math.floor(next() * 256)) : null;
  return { positions, colors, count };
}

/** A camera at OpenCV (2, 0.5, -1), turned 90° about the y axis so it looks along world +x. */
const turnedCamera: CameraInfo = {
  frameId: 'frame-a',
  frameIndex: 3,
  // columns are the camera axes in world coordinates: x_cam -> world -z, y_cam -> world y, z_cam -> world +x
  worldFromCamera: [0, 0, 1, 2, 0, 1, 0, 0.5, -1, 0, 0, -1, 0, 0, 0, 1],
  intrinsics: { fx: 500, fy: 500, cx: 320, cy: 240, width: 640, height: 480 },
};
const plainCamera: CameraInfo = {
  frameId: null,
  frameIndex: 0,
  worldFromCamera: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
  intrinsics: null,
};

async function validate(path: string): Promise<ValidationReport> {
  const report = await validator.validateBytes(new Uint8Array(readFileSync(path)), { maxIssues: 50 });
  expect(report.issues.messages.filter((m) => m.severity === 0)).toEqual([]);
  expect(report.issues.numErrors).toBe(0);
  return report;
}

describe('GLB export', () => {
  it('passes the glTF validator and round-trips points and colours exactly', async () => {
    const cloud = randomCloud(20_000, true);
    const path = join(work, 'scene.glb');
    const { bytes } = await exportPointCloud(path, cloud, {
      format: 'glb',
      cameras: [plainCamera, turnedCamera],
    });
    expect(bytes).toBe(readFileSync(path).length);
    const report = await validate(path);
    expect(report.issues.numWarnings).toBe(0);
    const back = await importPointCloud(path);
    expect(back.count).toBe(cloud.count);
    expect(Buffer.from(back.positions.buffer).equals(Buffer.from(cloud.positions.buffer))).toBe(true);
    expect(back.colors).toEqual(cloud.colors);
  });

  it('is valid without colours, and for an empty cloud with cameras', async () => {
    const noColors = join(work, 'plain.glb');
    await exportPointCloud(noColors, randomCloud(1000, false), { format: 'glb' });
    await validate(noColors);
    expect((await importPointCloud(noColors)).colors).toBeNull();

    const empty = join(work, 'empty.glb');
    await exportPointCloud(
      empty,
      { positions: new Float32Array(0), colors: null, count: 0 },
      { format: 'glb', cameras: [turnedCamera] },
    );
    await validate(empty);
    expect((await importPointCloud(empty)).count).toBe(0);
  });

  it('leaves out points with NaN or infinite coordinates (glTF forbids them)', async () => {
    const path = join(work, 'nan.glb');
    const cloud: PointCloud = {
      positions: new Float32Array([1, 2, 3, NaN, 0, 0, 4, 5, 6, 0, Infinity, 0]),
      colors: new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]),
      count: 4,
    };
    await exportPointCloud(path, cloud, { format: 'glb' });
    await validate(path);
    const back = await importPointCloud(path);
    expect([...back.positions]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...back.colors!]).toEqual([1, 1, 1, 3, 3, 3]);
  });

  it('stores points y-up (R_x 180°) with POINTS mode, linear normalized uint16 COLOR_0 and min/max', async () => {
    const path = join(work, 'axes.glb');
    const cloud: PointCloud = {
      positions: new Float32Array([1, 2, 3, -4, -5, -6]),
      colors: new Uint8Array([255, 0, 0, 0, 0, 255]),
      count: 2,
    };
    await exportPointCloud(path, cloud, { format: 'glb' });
    const doc = await new NodeIO().read(path);
    const primitive = doc.getRoot().listMeshes()[0].listPrimitives()[0];
    expect(primitive.getMode()).toBe(Primitive.Mode.POINTS);
    const position = primitive.getAttribute('POSITION')!;
    expect([...position.getArray()!]).toEqual([1, -2, -3, -4, 5, 6]);
    expect(position.getMin([0, 0, 0])).toEqual([-4, -2, -3]);
    expect(position.getMax([0, 0, 0])).toEqual([1, 5, 6]);
    const color = primitive.getAttribute('COLOR_0')!;
    // glTF colours are linear; uint16 keeps every sRGB byte distinct (color-space.ts).
    expect([color.getComponentType(), color.getNormalized(), color.getType()]).toEqual([
      Accessor.ComponentType.UNSIGNED_SHORT,
      true,
      'VEC3',
    ]);
  });

  it('puts cameras where they were, looking the same way, with the field of view from the intrinsics', async () => {
    const path = join(work, 'cameras.glb');
    await exportPointCloud(path, randomCloud(10, true), { format: 'glb', cameras: [turnedCamera] });
    const doc = await new NodeIO().read(path);
    const node = doc
      .getRoot()
      .listNodes()
      .find((n) => n.getName() === 'camera-3')!;
    const camera = node.getCamera()!;
    expect(camera.getYFov()).toBeCloseTo(2 * Math.atan(240 / 500), 9);
    expect(camera.getAspectRatio()).toBeCloseTo(640 / 480, 9);
    expect(node.getExtras()).toMatchObject({ frameIndex: 3, frameId: 'frame-a' });
    const m = node.getWorldMatrix(); // column-major
    // Position: OpenCV (2, 0.5, -1) -> glTF (2, -0.5, 1).
    expect([m[12], m[13], m[14]].map((v) => +v.toFixed(6))).toEqual([2, -0.5, 1]);
    // A glTF camera looks along its local -z. In OpenCV world this camera looks along
    // its +z column (1, 0, 0) -> in glTF world (1, 0, 0) as well.
    const forward = [-m[8], -m[9], -m[10]];
    expect(forward.map((v) => +v.toFixed(6) + 0)).toEqual([1, 0, 0]);
    // Its up (-y in OpenCV camera) is world -y in OpenCV = +y in glTF.
    expect([m[4], m[5], m[6]].map((v) => +v.toFixed(6) + 0)).toEqual([0, 1, 0]);
  });

  it('three.js (what the renderer uses) loads the export: points, colours and a camera', async () => {
    const path = join(work, 'for-three.glb');
    const cloud: PointCloud = {
      positions: new Float32Array([1, 2, 3, -4.5, 5.25, -6]),
      colors: new Uint8Array([255, 0, 0, 0, 255, 0]),
      count: 2,
    };
    await exportPointCloud(path, cloud, { format: 'glb', cameras: [turnedCamera] });
    const bytes = readFileSync(path);
    const gltf = await new GLTFLoader().parseAsync(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      '',
    );
    const points = gltf.scene.getObjectByName('points') as Points | undefined;
    expect(points?.type).toBe('Points');
    const position = points!.geometry.getAttribute('position');
    const xyz = [0, 1].flatMap((i) => [position.getX(i), position.getY(i), position.getZ(i)]);
    expect(xyz).toEqual([1, -2, -3, -4.5, -5.25, 6]); // y up: R_x(180°)
    const color = points!.geometry.getAttribute('color');
    expect([color.getX(0), color.getY(0), color.getX(1), color.getY(1)]).toEqual([1, 0, 0, 1]);
    expect(gltf.cameras).toHaveLength(1);
    const camera = gltf.cameras[0] as PerspectiveCamera;
    expect(camera.fov).toBeCloseTo((2 * Math.atan(240 / 500) * 180) / Math.PI, 6);
    camera.updateMatrixWorld(true);
    const forward = new Vector3();
    camera.getWorldDirection(forward);
    expect(forward.toArray().map((v) => Math.round(v * 1e6) / 1e6 + 0)).toEqual([1, 0, 0]);
  });

  it('reads POINTS and meshes written by other tools, with node transforms and float vec4 colours', async () => {
    const doc = new Document();
    const buffer = doc.createBuffer();
    const position = doc
      .createAccessor()
      .setType('VEC3')
      .setArray(new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]))
      .setBuffer(buffer);
    const color = doc
      .createAccessor()
      .setType('VEC4')
      .setArray(new Float32Array([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0.5, 1]))
      .setBuffer(buffer);
    const triangles = doc.createPrimitive().setAttribute('POSITION', position).setAttribute('COLOR_0', color);
    const mesh = doc.createMesh().addPrimitive(triangles);
    doc.createScene().addChild(doc.createNode().setTranslation([10, 20, 30]).setMesh(mesh));
    const path = join(work, 'other-tool.gltf');
    await new NodeIO().write(path, doc); // .gltf JSON with an external .bin beside it
    const cloud = await importPointCloud(path);
    // glTF (x, y, z) + translation, then back to OpenCV axes: (x, -y, -z).
    expect([...cloud.positions]).toEqual([10, -20, -30, 11, -20, -30, 10, -21, -30]);
    // COLOR_0 is linear: 0.5 linear is sRGB byte 188 (a viewer shows it that bright).
    expect([...cloud.colors!]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 188]);
  });

  it('says a compressed (Draco) GLB is unsupported rather than damaged', async () => {
    // Our own export with "KHR_draco_mesh_compression" declared as required, re-packed as a GLB.
    const source = readFileSync(join(work, 'scene.glb'));
    const jsonLength = source.readUInt32LE(12);
    const json = JSON.parse(source.toString('utf8', 20, 20 + jsonLength)) as Record<string, unknown>;
    json.extensionsUsed = ['KHR_draco_mesh_compression'];
    json.extensionsRequired = ['KHR_draco_mesh_compression'];
    let text = JSON.stringify(json);
    text += ' '.repeat((4 - (text.length % 4)) % 4);
    const jsonChunk = Buffer.alloc(8 + text.length);
    jsonChunk.writeUInt32LE(text.length, 0);
    jsonChunk.writeUInt32LE(0x4e4f534a, 4);
    jsonChunk.write(text, 8, 'utf8');
    const rest = source.subarray(20 + jsonLength);
    const head = Buffer.from(source.subarray(0, 12));
    head.writeUInt32LE(12 + jsonChunk.length + rest.length, 8);
    const path = join(work, 'draco.glb');
    writeFileSync(path, Buffer.concat([head, jsonChunk, rest]));
    await expect(importPointCloud(path)).rejects.toMatchObject({ code: 'unsupported-file' });
  });

  it('rejects a damaged GLB with a typed error', async () => {
    const path = join(work, 'scene.glb');
    const cut = join(work, 'cut.glb');
    const bytes = readFileSync(path);
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    await expect(importPointCloud(cut)).rejects.toMatchObject({ code: 'corrupt-media' });
  });
});
