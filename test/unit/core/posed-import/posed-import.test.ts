// Posed captures in: COLMAP models (text and binary) and transforms.json become
// scenes with frames, cameras and points; round trips through the studio's own
// exporters keep cameras (a shared camera stays one) and poses.

import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Matrix4, Quaternion } from 'three';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraInfo } from '../../../../main/common/domain';
import { exportColmapText } from '../../../../main/core/camera-export/colmap-text';
import type { CameraExportInput, ExportFrame } from '../../../../main/core/camera-export/export-scene';
import { exportNerfstudio } from '../../../../main/core/camera-export/nerfstudio-transforms';
import { readColmapModel } from '../../../../main/core/posed-import/colmap-model';
import { readTransformsJson } from '../../../../main/core/posed-import/nerfstudio-transforms-reader';
import type { PosedCapture } from '../../../../main/core/posed-import/posed-capture';
import { createStudio, type Studio } from '../../../../main/core/studio';

let work: string;
let studio: Studio;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'g2-posed-import-'));
  studio = await createStudio({ libraryPath: join(work, 'library'), mode: 'cli' });
});
afterAll(async () => {
  await studio?.close();
  rmSync(work, { recursive: true, force: true });
});

function pose(seed: number): number[] {
  const q = new Quaternion(Math.sin(seed), Math.cos(2 * seed), Math.sin(3 * seed + 1), 0.7).normalize();
  return new Matrix4()
    .makeRotationFromQuaternion(q)
    .setPosition(seed * 0.3, -0.2 * seed, 1 + seed)
    .transpose()
    .toArray();
}

const lensA = { fx: 50.5, fy: 51.25, cx: 32, cy: 24, width: 64, height: 48 };
const lensB = { ...lensA, fx: 70 };

async function frame(index: number, intrinsics: CameraInfo['intrinsics']): Promise<ExportFrame> {
  const bytes = await sharp({
    create: { width: 64, height: 48, channels: 3, background: { r: 40 * index, g: 100, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  return {
    camera: { frameId: `f${index}`, frameIndex: index, worldFromCamera: pose(index + 1), intrinsics },
    image: { bytes, mime: 'image/jpeg', width: 64, height: 48 },
  };
}

async function exportInput(): Promise<CameraExportInput> {
  const count = 300;
  return {
    frames: [await frame(0, lensA), await frame(1, lensA), await frame(2, lensB)],
    points: {
      positions: new Float32Array(count * 3).map((_, i) => Math.sin(i * 0.37) * 3),
      colors: new Uint8Array(count * 3).map((_, i) => (i * 7) & 255),
      count,
    },
    metresPerUnit: null,
  };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol);
}

function expectSameCameras(a: PosedCapture, b: PosedCapture): void {
  expect(b.frames).toHaveLength(a.frames.length);
  a.frames.forEach((f, i) => {
    expectClose(b.frames[i].worldFromCamera, f.worldFromCamera);
    const [ka, kb] = [f.intrinsics, b.frames[i].intrinsics];
    expectClose(
      [kb.fx, kb.fy, kb.cx, kb.cy, kb.width, kb.height],
      [ka.fx, ka.fy, ka.cx, ka.cy, ka.width, ka.height],
    );
  });
}

/** COLMAP's binary layout (reconstruction_io.cc), written independently of the reader. */
function writeColmapBinary(dir: string, capture: PosedCapture): void {
  mkdirSync(dir, { recursive: true });
  const lenses = [
    ...new Map(capture.frames.map((f) => [JSON.stringify(f.intrinsics), f.intrinsics])).values(),
  ];
  const cams = Buffer.alloc(8 + lenses.length * (4 + 4 + 8 + 8 + 4 * 8));
  let o = cams.writeBigUInt64LE(BigInt(lenses.length), 0);
  lenses.forEach((k, i) => {
    o = cams.writeInt32LE(i + 1, o);
    o = cams.writeInt32LE(1, o); // PINHOLE
    o = cams.writeBigUInt64LE(BigInt(k.width), o);
    o = cams.writeBigUInt64LE(BigInt(k.height), o);
    for (const v of [k.fx, k.fy, k.cx, k.cy]) o = cams.writeDoubleLE(v, o);
  });
  writeFileSync(join(dir, 'cameras.bin'), cams);
  const parts: Buffer[] = [Buffer.from(new BigUint64Array([BigInt(capture.frames.length)]).buffer)];
  capture.frames.forEach((f, i) => {
    const cw = new Matrix4().fromArray(f.worldFromCamera).transpose(); // column-major for three
    const cfw = cw.clone().invert();
    const q = new Quaternion().setFromRotationMatrix(cfw);
    const e = cfw.elements;
    const head = Buffer.alloc(4 + 7 * 8 + 4);
    let p = head.writeInt32LE(i + 1, 0);
    for (const v of [q.w, q.x, q.y, q.z, e[12], e[13], e[14]]) p = head.writeDoubleLE(v, p);
    head.writeInt32LE(lenses.findIndex((k) => JSON.stringify(k) === JSON.stringify(f.intrinsics)) + 1, p);
    const tail = Buffer.alloc(8 + 24); // one 2D observation
    tail.writeBigUInt64LE(1n, 0);
    parts.push(head, Buffer.from(`${f.name}\0`), tail);
  });
  writeFileSync(join(dir, 'images.bin'), Buffer.concat(parts));
  const n = capture.points?.count ?? 0;
  const pts = Buffer.alloc(8 + n * (8 + 24 + 3 + 8 + 8 + 8));
  let q = pts.writeBigUInt64LE(BigInt(n), 0);
  for (let i = 0; i < n; i++) {
    q = pts.writeBigUInt64LE(BigInt(i + 1), q);
    for (let a = 0; a < 3; a++) q = pts.writeDoubleLE(capture.points!.positions[3 * i + a], q);
    for (let a = 0; a < 3; a++) q = pts.writeUInt8(capture.points!.colors![3 * i + a], q);
    q = pts.writeDoubleLE(0.5, q);
    q = pts.writeBigUInt64LE(1n, q); // track of one (image, point2D) pair
    q = pts.writeInt32LE(1, q);
    q = pts.writeInt32LE(0, q);
  }
  writeFileSync(join(dir, 'points3D.bin'), pts);
}

async function importJob(
  path: string,
): Promise<{ status: string; sceneId?: string; error?: { code: string } }> {
  const { jobId } = (await studio.call('scenes.import', { sources: [{ kind: 'path', path }] })) as {
    jobId: string;
  };
  const job = await studio.waitForJob(jobId);
  return { status: job.status, sceneId: job.sceneId ?? undefined, error: job.error ?? undefined };
}

describe('COLMAP model import', () => {
  let textDir: string;
  let fromText: PosedCapture;

  it('reads a text model: poses, one camera per lens, points', async () => {
    const input = await exportInput();
    textDir = join(work, 'colmap-text');
    await exportColmapText(textDir, input);
    fromText = await readColmapModel(textDir);
    expect(fromText.frames.map((f) => f.name)).toEqual([
      'frame_00000.jpg',
      'frame_00001.jpg',
      'frame_00002.jpg',
    ]);
    input.frames.forEach((f, i) => {
      expectClose(fromText.frames[i].worldFromCamera, f.camera.worldFromCamera);
      const k = f.camera.intrinsics!;
      expectClose(Object.values(fromText.frames[i].intrinsics), [k.fx, k.fy, k.cx, k.cy, k.width, k.height]);
    });
    expect(fromText.points?.count).toBe(300);
    expectClose(fromText.points!.positions, input.points.positions, 1e-6);
    expect(Array.from(fromText.points!.colors!)).toEqual(Array.from(input.points.colors!));
  });

  it('reads the same model in COLMAP binary form', async () => {
    const binDir = join(work, 'colmap-bin');
    writeColmapBinary(join(binDir, 'sparse', '0'), fromText);
    mkdirSync(join(binDir, 'images'));
    for (const f of fromText.frames) copyFileSync(f.imagePath, join(binDir, 'images', f.name));
    const fromBin = await readColmapModel(binDir);
    expectSameCameras(fromText, fromBin);
    expectClose(fromBin.points!.positions, fromText.points!.positions, 0);
    expect(Array.from(fromBin.points!.colors!)).toEqual(Array.from(fromText.points!.colors!));
  });

  it('imports as a scene; COLMAP out gives the same cameras (a shared one stays one) and poses', async () => {
    const imported = await importJob(textDir);
    expect(imported.status, JSON.stringify(imported.error)).toBe('succeeded');
    const scene = (await studio.call('scenes.get', { sceneId: imported.sceneId! })) as {
      frames: unknown[];
      cameras: CameraInfo[];
      pointCount: number;
    };
    expect(scene.frames).toHaveLength(3);
    expect(scene.cameras).toHaveLength(3);
    expect(scene.pointCount).toBe(300);

    const outDir = join(work, 'colmap-out');
    const { jobId } = (await studio.call('scenes.exportCameras', {
      sceneId: imported.sceneId!,
      format: 'colmap',
      outDir,
    })) as { jobId: string };
    const job = await studio.waitForJob(jobId);
    expect(job.status, job.error?.message).toBe('succeeded');
    const again = await readColmapModel(outDir);
    expectSameCameras(fromText, again);
    const cameraLines = (dir: string): number =>
      readFileSync(join(dir, 'sparse', '0', 'cameras.txt'), 'utf8')
        .split('\n')
        .filter((l: string) => l && !l.startsWith('#')).length;
    expect(cameraLines(outDir)).toBe(2);
    expect(again.points?.count).toBe(300);
  });

  it('refuses hostile models before allocating or reading outside the folder', async () => {
    const evil = join(work, 'evil');
    mkdirSync(join(evil, 'sparse', '0'), { recursive: true });
    mkdirSync(join(evil, 'images'));
    writeFileSync(join(evil, 'secret.jpg'), 'not for the capture');
    writeFileSync(join(evil, 'sparse', '0', 'cameras.txt'), '1 PINHOLE 64 48 50 50 32 24\n');
    writeFileSync(join(evil, 'sparse', '0', 'images.txt'), '1 1 0 0 0 0 0 0 1 ../secret.jpg\n\n');
    await expect(readColmapModel(evil)).rejects.toMatchObject({ code: 'corrupt-media' });
    writeFileSync(join(evil, 'sparse', '0', 'images.txt'), '1 1 0 0 0 0 0 0 1 /etc/passwd\n\n');
    await expect(readColmapModel(evil)).rejects.toMatchObject({ code: 'corrupt-media' });
    symlinkSync(join(evil, 'secret.jpg'), join(evil, 'images', 'link.jpg')); // inside by name, outside in fact
    writeFileSync(join(evil, 'sparse', '0', 'images.txt'), '1 1 0 0 0 0 0 0 1 link.jpg\n\n');
    await expect(readColmapModel(evil)).rejects.toMatchObject({ code: 'corrupt-media' });

    const bin = join(work, 'evil-bin', 'sparse', '0');
    mkdirSync(bin, { recursive: true });
    const cams = Buffer.alloc(8);
    cams.writeBigUInt64LE(2n ** 40n);
    writeFileSync(join(bin, 'cameras.bin'), cams);
    writeFileSync(join(bin, 'images.bin'), cams);
    const started = Date.now();
    await expect(readColmapModel(join(work, 'evil-bin'))).rejects.toMatchObject({ code: 'corrupt-media' });
    const few = Buffer.alloc(8);
    few.writeBigUInt64LE(1000n); // claims 1000 cameras in an 8-byte file
    writeFileSync(join(bin, 'cameras.bin'), few);
    await expect(readColmapModel(join(work, 'evil-bin'))).rejects.toMatchObject({ code: 'corrupt-media' });
    expect(Date.now() - started).toBeLessThan(2000);

    const result = await importJob(evil);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('corrupt-media');
  });
});

describe('transforms.json import', () => {
  it('reads nerfstudio transforms (OpenGL axes), imports, and transforms.json out matches', async () => {
    const input = await exportInput();
    input.frames = input.frames.slice(0, 2); // one lens: intrinsics at the top level
    const dir = join(work, 'nerf-in');
    await exportNerfstudio(dir, input);
    const capture = await readTransformsJson(dir);
    input.frames.forEach((f, i) => expectClose(capture.frames[i].worldFromCamera, f.camera.worldFromCamera));
    expect(capture.points?.count).toBe(300);

    const imported = await importJob(join(dir, 'transforms.json'));
    expect(imported.status, JSON.stringify(imported.error)).toBe('succeeded');
    const outDir = join(work, 'nerf-out');
    const { jobId } = (await studio.call('scenes.exportCameras', {
      sceneId: imported.sceneId!,
      format: 'nerfstudio',
      outDir,
    })) as { jobId: string };
    expect((await studio.waitForJob(jobId)).status).toBe('succeeded');
    const again = await readTransformsJson(outDir);
    expectSameCameras(capture, again);
    const json = JSON.parse(readFileSync(join(outDir, 'transforms.json'), 'utf8'));
    expect(json.fl_x).toBeCloseTo(lensA.fx, 9);
  });

  it('reads instant-ngp style camera_angle_x and refuses paths outside the folder', async () => {
    const dir = join(work, 'ngp');
    mkdirSync(join(dir, 'images'), { recursive: true });
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
      .png()
      .toFile(join(dir, 'images', 'a.png'));
    const identity = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const angle = 2 * Math.atan(32 / 40); // fl_x = 40 for w = 64
    writeFileSync(
      join(dir, 'transforms.json'),
      JSON.stringify({
        camera_angle_x: angle,
        w: 64,
        h: 48,
        frames: [{ file_path: 'images/a.png', transform_matrix: identity }],
      }),
    );
    const capture = await readTransformsJson(dir);
    expect(capture.frames[0].intrinsics.fx).toBeCloseTo(40, 9);
    // OpenGL identity = OpenCV camera with y and z flipped.
    expectClose(capture.frames[0].worldFromCamera.slice(0, 12), [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0], 0);
    writeFileSync(
      join(dir, 'transforms.json'),
      JSON.stringify({
        fl_x: 40,
        w: 64,
        h: 48,
        frames: [{ file_path: '../../etc/hostname', transform_matrix: identity }],
      }),
    );
    await expect(readTransformsJson(dir)).rejects.toMatchObject({ code: 'corrupt-media' });
  });
});
