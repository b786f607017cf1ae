// Writes a point cloud as PLY (binary or ASCII, OpenCV axes) or GLB (glTF axes,
// with cameras as nodes). Every write is atomic: temp file, fsync, rename.

import type { CameraInfo } from '../../common/domain';
import { writeGlb } from './glb-writer';
import type { PointCloud, PointCloudTaskOptions } from './point-cloud';
import { writePly } from './ply-writer';

export interface ExportPointCloudOptions extends PointCloudTaskOptions {
  format: 'ply' | 'glb';
  /** PLY only; binary unless asked otherwise. */
  encoding?: 'binary' | 'ascii';
  /** GLB only: cameras become camera nodes. */
  cameras?: CameraInfo[];
}

export async function exportPointCloud(
  path: string,
  cloud: PointCloud,
  opts: ExportPointCloudOptions,
): Promise<{ bytes: number }> {
  return opts.format === 'ply'
    ? writePly(path, cloud, opts.encoding ?? 'binary', opts)
    : writeGlb(path, cloud, opts.cameras ?? [], opts);
}
