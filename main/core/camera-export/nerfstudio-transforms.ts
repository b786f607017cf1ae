// nerfstudio's transforms.json (also read by instant-ngp-style loaders and
// splatfacto): per-frame camera-to-world `transform_matrix` in the OpenGL
// camera convention (x right, y up, looking down −z), i.e. our OpenCV
// worldFromCamera with the camera's y and z axes flipped; pinhole intrinsics
// in pixels (fl_x, fl_y, cx, cy, w, h) at the top level when all frames share
// them, per frame otherwise; the edited cloud as `ply_file_path` (binary PLY,
// same world) so splatfacto can start from it.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { cancelledError } from '../../common/errors';
import { writePly } from '../pointcloud/ply-writer';
import { openGlFromOpenCvCameraToWorld } from '../../base/camera-math';
import {
  writeExportFolder,
  writeImages,
  type CameraExportOptions,
  type CameraExportResult,
} from './export-folder';
import { prepareCameraExport, type CameraExportInput, type PreparedCamera } from './export-scene';

const POINTS_FILE = 'sparse_pc.ply';

function intrinsicsOf(c: PreparedCamera): Record<string, number> {
  return { fl_x: c.fx, fl_y: c.fy, cx: c.cx, cy: c.cy, w: c.width, h: c.height };
}

function rows(m: number[]): number[][] {
  return [0, 1, 2, 3].map((r) => m.slice(r * 4, r * 4 + 4).map((v) => (v === 0 ? 0 : v)));
}

export async function exportNerfstudio(
  outDir: string,
  input: CameraExportInput,
  opts: CameraExportOptions = {},
): Promise<CameraExportResult> {
  const what = 'The nerfstudio export';
  const { cameras, points } = prepareCameraExport(input);
  const shared = cameras.every(
    (c) => JSON.stringify(intrinsicsOf(c)) === JSON.stringify(intrinsicsOf(cameras[0])),
  );
  const written = await writeExportFolder(
    outDir,
    what,
    async (staging, files) => {
      await writeImages(staging, cameras, files, opts, what);
      const hasPoints = points.count > 0;
      if (hasPoints) {
        await writePly(join(staging, POINTS_FILE), points, 'binary', {
          signal: opts.signal,
          onProgress: (p) => opts.onProgress?.(0.3 + 0.6 * p, 'points'),
        });
        files.push(POINTS_FILE);
      }
      if (opts.signal?.aborted) throw cancelledError(what);
      const distortion = { k1: 0, k2: 0, p1: 0, p2: 0 };
      const transforms = {
        camera_model: 'OPENCV',
        ...(shared ? { ...intrinsicsOf(cameras[0]), ...distortion } : {}),
        frames: cameras.map((c) => ({
          file_path: `images/${c.fileName}`,
          transform_matrix: rows(openGlFromOpenCvCameraToWorld(c.worldFromCamera)),
          ...(shared ? {} : { ...intrinsicsOf(c), ...distortion }),
        })),
        ...(hasPoints ? { ply_file_path: POINTS_FILE } : {}),
      };
      await fs.writeFile(join(staging, 'transforms.json'), `${JSON.stringify(transforms, null, 2)}\n`);
      files.push('transforms.json');
    },
    opts,
  );
  return { dir: outDir, ...written, cameraCount: cameras.length, pointCount: points.count };
}
