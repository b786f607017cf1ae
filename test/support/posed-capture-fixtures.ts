// Posed captures on disk, as another tool leaves them: a COLMAP text project
// (sparse/0 + images/) and a nerfstudio folder (transforms.json + images/ +
// a PLY), made on the fly with known cameras and points, plus what such
// folders also hold that an import does not need (COLMAP's database, dense/
// outputs, hidden files). Written with the studio's own exporters, whose
// formats the posed-import tests check against independent writers.

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CameraInfo } from '../../main/common/domain';
import { exportColmapText } from '../../main/core/camera-export/colmap-text';
import type { CameraExportInput, ExportFrame } from '../../main/core/camera-export/export-scene';
import { exportNerfstudio } from '../../main/core/camera-export/nerfstudio-transforms';

export const LENS_A = { fx: 50.5, fy: 51.25, cx: 32, cy: 24, width: 64, height: 48 };
export const LENS_B = { ...LENS_A, fx: 70, fy: 70.5 };

/** A rigid row-major 4x4 camera-to-world pose, different for every seed. */
export function posedCamera(seed: number): number[] {
  const angle = 0.4 * seed;
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  // A turn about y (OpenCV's down axis) and a step along the turning circle.
  return [c, 0, s, 2 * s, 0, 1, 0, -0.1 * seed, -s, 0, c, 2 - 2 * c, 0, 0, 0, 1];
}

async function frame(index: number, intrinsics: CameraInfo['intrinsics']): Promise<ExportFrame> {
  // Sharp-edged content, so the photo reader's blur score has something to measure.
  const bytes = await sharp({
    create: {
      width: 64,
      height: 48,
      channels: 3,
      background: { r: 50 * index, g: 120, b: 200 - 30 * index },
    },
  })
    .composite([
      {
        input: { create: { width: 16, height: 16, channels: 3, background: '#ffffff' } },
        left: 8 + 8 * index,
        top: 16,
      },
    ])
    .jpeg({ quality: 92 })
    .toBuffer();
  return {
    camera: { frameId: `f${index}`, frameIndex: index, worldFromCamera: posedCamera(index + 1), intrinsics },
    image: { bytes, mime: 'image/jpeg', width: 64, height: 48 },
  };
}

function cloud(count: number): CameraExportInput['points'] {
  return {
    positions: new Float32Array(count * 3).map((_, i) => Math.sin(i * 0.37) * 2 + (i % 3 === 2 ? 3 : 0)),
    colors: new Uint8Array(count * 3).map((_, i) => (i * 7) & 255),
    count,
  };
}

export interface PosedFixture {
  /** The folder to import. */
  dir: string;
  input: CameraExportInput;
  /** Distinct lenses among the frames. */
  cameraCount: number;
  /** Files the import needs (relative paths), and files beside them it does not. */
  needed: string[];
  extra: string[];
}

/** A COLMAP text project: 4 images from 2 lenses (3 + 1), 300 points, and the clutter COLMAP leaves. */
export async function writeColmapProject(dir: string): Promise<PosedFixture> {
  const input: CameraExportInput = {
    frames: [await frame(0, LENS_A), await frame(1, LENS_A), await frame(2, LENS_A), await frame(3, LENS_B)],
    points: cloud(300),
    metresPerUnit: null,
  };
  await exportColmapText(dir, input);
  await writeFile(join(dir, 'database.db'), Buffer.alloc(64 * 1024, 7));
  await mkdir(join(dir, 'dense', '0', 'images'), { recursive: true });
  await copyFile(
    join(dir, 'images', 'frame_00000.jpg'),
    join(dir, 'dense', '0', 'images', 'frame_00000.jpg'),
  );
  await writeFile(join(dir, '.DS_Store'), 'Finder');
  const images = input.frames.map((_, i) => `images/frame_0000${i}.jpg`);
  return {
    dir,
    input,
    cameraCount: 2,
    needed: ['sparse/0/cameras.txt', 'sparse/0/images.txt', 'sparse/0/points3D.txt', ...images],
    extra: ['database.db', 'dense/0/images/frame_00000.jpg', '.DS_Store'],
  };
}

/** A nerfstudio folder: 3 images from one lens, 200 points in a PLY, and an unreferenced depth map. */
export async function writeTransformsCapture(dir: string): Promise<PosedFixture> {
  const input: CameraExportInput = {
    frames: [await frame(0, LENS_B), await frame(1, LENS_B), await frame(2, LENS_B)],
    points: cloud(200),
    metresPerUnit: null,
  };
  await exportNerfstudio(dir, input);
  await mkdir(join(dir, 'depth'), { recursive: true });
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'depth', 'frame_00000.png'));
  const images = input.frames.map((_, i) => `images/frame_0000${i}.jpg`);
  return {
    dir,
    input,
    cameraCount: 1,
    needed: ['transforms.json', 'sparse_pc.ply', ...images],
    extra: ['depth/frame_00000.png'],
  };
}
