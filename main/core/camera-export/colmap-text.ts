// COLMAP text model, the layout Gaussian-splatting and meshing tools read:
//   <out>/images/<frames>
//   <out>/sparse/0/cameras.txt   CAMERA_ID PINHOLE WIDTH HEIGHT fx fy cx cy
//   <out>/sparse/0/images.txt    IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME
//                                (then one line of 2D points, empty here)
//   <out>/sparse/0/points3D.txt  POINT3D_ID X Y Z R G B ERROR (no track)
// COLMAP's camera axes are OpenCV's (x right, y down, z forward) and an image
// stores its world-to-camera pose: R = rotation of cameraFromWorld as a unit
// quaternion (w first), t its translation. Pixel centres sit at +0.5 in COLMAP
// as in our fitted intrinsics (geometry/intrinsics.ts), so cx, cy carry over.
// Frames whose intrinsics agree (shared-intrinsics.ts) share one camera.

import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import { formatFloat32 } from '../pointcloud/ply-writer';
import { invertRigid, quaternionFromRotation } from '../../base/camera-math';
import {
  writeExportFolder,
  writeImages,
  writeLines,
  type CameraExportOptions,
  type CameraExportResult,
} from './export-folder';
import { prepareCameraExport, type CameraExportInput } from './export-scene';

const num = (v: number): string => String(v === 0 ? 0 : v); // shortest round-trip text, no "-0"

export async function exportColmapText(
  outDir: string,
  input: CameraExportInput,
  opts: CameraExportOptions = {},
): Promise<CameraExportResult> {
  const what = 'The COLMAP export';
  const scene = prepareCameraExport(input);
  const { cameras, points } = scene;
  const written = await writeExportFolder(
    outDir,
    what,
    async (staging, files) => {
      await writeImages(staging, cameras, files, opts, what);
      const sparse = join(staging, 'sparse', '0');
      await fs.mkdir(sparse, { recursive: true });

      const cameraIds = new Map<string, number>();
      const cameraLines: string[] = [];
      const imageLines: string[] = [];
      cameras.forEach((camera, n) => {
        const params = [camera.fx, camera.fy, camera.cx, camera.cy].map(num).join(' ');
        const key = `${camera.width} ${camera.height} ${params}`;
        let cameraId = cameraIds.get(key);
        if (cameraId === undefined) {
          cameraId = cameraIds.size + 1;
          cameraIds.set(key, cameraId);
          cameraLines.push(`${cameraId} PINHOLE ${key}\n`);
        }
        const cameraFromWorld = invertRigid(camera.worldFromCamera);
        const q = quaternionFromRotation(cameraFromWorld, 4);
        const t = [cameraFromWorld[3], cameraFromWorld[7], cameraFromWorld[11]];
        imageLines.push(`${n + 1} ${[...q, ...t].map(num).join(' ')} ${cameraId} ${camera.fileName}\n\n`);
      });
      await fs.writeFile(
        join(sparse, 'cameras.txt'),
        `# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n# Number of cameras: ${cameraIds.size}\n${cameraLines.join('')}`,
      );
      await fs.writeFile(
        join(sparse, 'images.txt'),
        `# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n#   POINTS2D[] as (X, Y, POINT3D_ID)\n# Number of images: ${cameras.length}, mean observations per image: 0\n${imageLines.join('')}`,
      );
      files.push('sparse/0/cameras.txt', 'sparse/0/images.txt');

      const { positions, colors, count } = points;
      await writeLines(
        join(sparse, 'points3D.txt'),
        count,
        `# 3D point list with one line of data per point:\n#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n# Number of points: ${count}, mean track length: 0\n`,
        (i) => {
          const rgb = colors ? `${colors[3 * i]} ${colors[3 * i + 1]} ${colors[3 * i + 2]}` : '128 128 128';
          return `${i + 1} ${formatFloat32(positions[3 * i])} ${formatFloat32(positions[3 * i + 1])} ${formatFloat32(positions[3 * i + 2])} ${rgb} 0\n`;
        },
        opts,
        what,
        (f) => opts.onProgress?.(0.3 + 0.7 * f, 'points'),
      );
      files.push('sparse/0/points3D.txt');
    },
    opts,
  );
  return { dir: outDir, ...written, cameraCount: cameras.length, pointCount: points.count };
}
