// Camera exports read back by small independent parsers written here (and
// three.js for quaternions): poses and intrinsics must equal what was given,
// after the scene's scale and levelling, within 1e-6.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Matrix4, Quaternion } from 'three';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraInfo } from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { exportColmapText } from '../../../../main/core/camera-export/colmap-text';
import type { CameraExportInput, ExportFrame } from '../../../../main/core/camera-export/export-scene';
import { exportNerfstudio } from '../../../../main/core/camera-export/nerfstudio-transforms';
import { fitGroundPlane, levellingTransform } from '../../../../main/core/geometry/ground-plane';
import { readPly } from '../../../../main/core/pointcloud/ply-reader';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'g2-camera-export-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function randomPose(seed: number): number[] {
  const q = new Quaternion(Math.sin(seed), Math.cos(2 * seed), Math.sin(3 * seed + 1), 0.7).normalize();
  const m = new Matrix4().makeRotationFromQuaternion(q).setPosition(seed * 0.3, -0.2 * seed, 1 + seed);
  return m.clone().transpose().toArray(); // three is column-major; transpose → row-major
}

async function frame(
  index: number,
  intrinsics: CameraInfo['intrinsics'],
  size = { w: 64, h: 48 },
): Promise<ExportFrame> {
  const bytes = await sharp({
    create: { width: size.w, height: size.h, channels: 3, background: { r: 40 * index, g: 100, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  return {
    camera: { frameId: `f${index}`, frameIndex: index, worldFromCamera: randomPose(index + 1), intrinsics },
    image: { bytes, mime: 'image/jpeg', width: size.w, height: size.h },
  };
}

const mapIntrinsics = { fx: 30.5, fy: 31.25, cx: 16, cy: 12, width: 32, height: 24 };

function points(): CameraExportInput['points'] {
  const count = 500;
  const positions = new Float32Array(count * 3).map((_, i) => Math.sin(i * 0.37) * 3);
  const colors = new Uint8Array(count * 3).map((_, i) => (i * 7) & 255);
  return { positions, colors, count };
}

const mul = (a: number[], b: number[]): number[] =>
  Array.from({ length: 16 }, (_, i) =>
    [0, 1, 2, 3].reduce((s, k) => s + a[(i >> 2) * 4 + k] * b[k * 4 + (i & 3)], 0),
  );

/** The pose the export should hold: levelled, then translation scaled. */
function expectedPose(pose: number[], level: number[], scale: number): number[] {
  const m = mul(level, pose);
  for (const at of [3, 7, 11]) m[at] *= scale;
  return m;
}

function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(tol));
}

/** Independent COLMAP text reader: cameras and images (world-from-camera rebuilt from qvec/tvec). */
function readColmap(dir: string): {
  cameras: Map<number, { model: string; width: number; height: number; params: number[] }>;
  images: Array<{ id: number; cameraId: number; name: string; worldFromCamera: number[]; points2D: string }>;
  points: Array<{ xyz: number[]; rgb: number[] }>;
} {
  const lines = (file: string): string[] =>
    readFileSync(join(dir, 'sparse/0', file), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'));
  const cameras = new Map<number, { model: string; width: number; height: number; params: number[] }>();
  for (const line of lines('cameras.txt').filter((l) => l.trim())) {
    const [id, model, w, h, ...params] = line.trim().split(/\s+/);
    cameras.set(Number(id), { model, width: Number(w), height: Number(h), params: params.map(Number) });
  }
  const imageLines = lines('images.txt');
  const images = [];
  for (let i = 0; i + 1 < imageLines.length; i += 2) {
    if (!imageLines[i].trim()) break;
    const e = imageLines[i].trim().split(/\s+/);
    const [qw, qx, qy, qz, tx, ty, tz] = e.slice(1, 8).map(Number);
    const cameraFromWorld = new Matrix4().makeRotationFromQuaternion(new Quaternion(qx, qy, qz, qw));
    cameraFromWorld.setPosition(tx, ty, tz);
    const worldFromCamera = cameraFromWorld.clone().invert().transpose().toArray();
    images.push({
      id: Number(e[0]),
      cameraId: Number(e[8]),
      name: e[9],
      worldFromCamera,
      points2D: imageLines[i + 1],
    });
  }
  const points = lines('points3D.txt')
    .filter((l) => l.trim())
    .map((l) => {
      const e = l.trim().split(/\s+/).map(Number);
      return { xyz: e.slice(1, 4), rgb: e.slice(4, 7) };
    });
  return { cameras, images, points };
}

describe('COLMAP text export', () => {
  it('round-trips poses (world-to-camera quaternions), PINHOLE intrinsics, points and images, scaled and levelled', async () => {
    const frames = [
      await frame(0, mapIntrinsics),
      await frame(3, mapIntrinsics),
      await frame(5, { ...mapIntrinsics, fx: 29 }),
    ];
    const level = levellingTransform(
      fitGroundPlane(
        [
          [0, 1, 0],
          [1, 1.1, 0],
          [0, 1.05, 1],
        ],
        { towards: [0, 0, 0] },
      ),
    );
    const cloud = points();
    const input: CameraExportInput = { frames, points: cloud, metresPerUnit: 0.25, worldTransform: level };
    const dir = join(work, 'colmap');
    const progress: number[] = [];
    const result = await exportColmapText(dir, input, { onProgress: (p) => progress.push(p) });
    expect(result.cameraCount).toBe(3);
    expect(progress.at(-1)).toBe(1);

    const model = readColmap(dir);
    expect(model.cameras.size).toBe(2); // frames 0 and 3 share intrinsics
    expect(model.images.map((i) => i.name)).toEqual([
      'frame_00000.jpg',
      'frame_00003.jpg',
      'frame_00005.jpg',
    ]);
    for (const [n, image] of model.images.entries()) {
      expectClose(image.worldFromCamera, expectedPose(frames[n].camera.worldFromCamera, level, 0.25));
      expect(image.points2D).toBe('');
      const camera = model.cameras.get(image.cameraId)!;
      const k = frames[n].camera.intrinsics!;
      expect(camera.model).toBe('PINHOLE');
      expect([camera.width, camera.height]).toEqual([64, 48]);
      expectClose(camera.params, [k.fx * 2, k.fy * 2, k.cx * 2, k.cy * 2]);
      expect(readFileSync(join(dir, 'images', image.name))).toEqual(Buffer.from(frames[n].image.bytes));
    }
    expect(model.points).toHaveLength(cloud.count);
    for (let i = 0; i < cloud.count; i++) {
      const p = [0, 1, 2].map((a) => cloud.positions[3 * i + a]);
      const want = [0, 1, 2].map(
        (r) =>
          (level[r * 4] * p[0] + level[r * 4 + 1] * p[1] + level[r * 4 + 2] * p[2] + level[r * 4 + 3]) * 0.25,
      );
      expectClose(model.points[i].xyz, want, 1e-5);
      expect(model.points[i].rgb).toEqual(Array.from(cloud.colors!.subarray(3 * i, 3 * i + 3)));
    }
  });

  it('refuses an existing folder, a frame without intrinsics, and leaves nothing behind on cancel', async () => {
    const frames = [await frame(1, mapIntrinsics)];
    const input: CameraExportInput = { frames, points: points(), metresPerUnit: null };
    const isCode = (code: string) => (e: unknown) =>
      e instanceof StudioError && e.code === code && e.fix.length > 0;
    await expect(exportColmapText(work, input)).rejects.toSatisfy(isCode('invalid-input'));
    await expect(
      exportColmapText(join(work, 'no-k'), { ...input, frames: [await frame(2, null)] }),
    ).rejects.toSatisfy(isCode('invalid-input'));
    const controller = new AbortController();
    controller.abort();
    await expect(
      exportColmapText(join(work, 'cancelled'), input, { signal: controller.signal }),
    ).rejects.toSatisfy(isCode('cancelled'));
    expect(readdirSync(work).filter((n) => n.includes('cancelled') || n.includes('no-k'))).toEqual([]);
  });
});

describe('nerfstudio transforms.json export', () => {
  it('round-trips camera-to-world (OpenGL axes) and shared intrinsics; writes images and the points PLY', async () => {
    const frames = [await frame(0, mapIntrinsics), await frame(1, mapIntrinsics)];
    const cloud = points();
    const dir = join(work, 'nerfstudio');
    await exportNerfstudio(dir, { frames, points: cloud, metresPerUnit: 2 });
    const json = JSON.parse(readFileSync(join(dir, 'transforms.json'), 'utf8'));
    expect(json.camera_model).toBe('OPENCV');
    expectClose([json.fl_x, json.fl_y, json.cx, json.cy, json.w, json.h], [61, 62.5, 32, 24, 64, 48]);
    expect([json.k1, json.k2, json.p1, json.p2]).toEqual([0, 0, 0, 0]);
    for (const [n, f] of json.frames.entries()) {
      const gl = (f.transform_matrix as number[][]).flat();
      // Back to OpenCV: negate the camera's y and z columns.
      const cv = gl.map((v, i) => (i < 12 && (i % 4 === 1 || i % 4 === 2) ? -v : v));
      expectClose(
        cv,
        expectedPose(frames[n].camera.worldFromCamera, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 2),
      );
      expect(existsSync(join(dir, f.file_path))).toBe(true);
      // OpenGL: the camera looks down its −z, i.e. the OpenCV +z axis.
      expect(-gl[2]).toBeCloseTo(frames[n].camera.worldFromCamera[2], 9);
    }
    const ply = await readPly(join(dir, json.ply_file_path));
    expect(ply.count).toBe(cloud.count);
    expectClose(
      Array.from(ply.positions.subarray(0, 30)),
      Array.from(cloud.positions.subarray(0, 30)).map((v) => v * 2),
      1e-5,
    );
  });

  it('writes intrinsics per frame when frames differ', async () => {
    const frames = [
      await frame(0, mapIntrinsics),
      await frame(1, { ...mapIntrinsics, fy: 40 }, { w: 32, h: 24 }),
    ];
    const dir = join(work, 'nerfstudio-per-frame');
    await exportNerfstudio(dir, {
      frames,
      points: { positions: new Float32Array(0), colors: null, count: 0 },
      metresPerUnit: null,
    });
    const json = JSON.parse(readFileSync(join(dir, 'transforms.json'), 'utf8'));
    expect(json.fl_x).toBeUndefined();
    expect(json.ply_file_path).toBeUndefined();
    expectClose([json.frames[0].fl_y, json.frames[0].w], [62.5, 64]);
    expectClose([json.frames[1].fl_y, json.frames[1].w, json.frames[1].cx], [40, 32, 16]);
  });

  it('gives frames of one physical camera one set of intrinsics although their fits differ by 1e-10', async () => {
    const nudged = (d: number) => ({
      ...mapIntrinsics,
      fx: mapIntrinsics.fx + d,
      fy: mapIntrinsics.fy - d,
      cx: mapIntrinsics.cx + d,
    });
    const frames = [await frame(0, nudged(0)), await frame(1, nudged(1e-10)), await frame(2, nudged(-2e-10))];
    const cloud = { positions: new Float32Array(0), colors: null, count: 0 };
    const nerf = join(work, 'nerfstudio-nudged');
    await exportNerfstudio(nerf, { frames, points: cloud, metresPerUnit: null });
    const json = JSON.parse(readFileSync(join(nerf, 'transforms.json'), 'utf8'));
    expectClose([json.fl_x, json.fl_y, json.cx], [61, 62.5, 32]);
    expect(json.frames.every((f: Record<string, unknown>) => f.fl_x === undefined)).toBe(true);

    const colmap = join(work, 'colmap-nudged');
    await exportColmapText(colmap, { frames, points: cloud, metresPerUnit: null });
    const model = readColmap(colmap);
    expect(model.cameras.size).toBe(1);
    expect(new Set(model.images.map((i) => i.cameraId))).toEqual(new Set([1]));
  });
});
