// Writes a point cloud as PLY (binary or ASCII; OpenCV axes unless asked for
// y-up or z-up) or GLB (glTF's y-up axes, with cameras as nodes). Every write
// is atomic: temp file, fsync, rename. Points with a NaN or infinite
// coordinate are left out, and `pointCount` is what the file holds.

import type { CameraInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import type { UpAxis } from './axes';
import { writeGlb } from './glb-writer';
import type { PointCloud, PointCloudTaskOptions } from './point-cloud';
import { writePly } from './ply-writer';

export interface ExportPointCloudOptions extends PointCloudTaskOptions {
  format: 'ply' | 'glb';
  /** PLY only; binary unless asked otherwise. */
  encoding?: 'binary' | 'ascii';
  /** PLY: 'opencv' (default), 'y-up' or 'z-up'. GLB: 'y-up' only (the glTF specification fixes it). */
  upAxis?: UpAxis;
  /** GLB only: cameras become camera nodes. */
  cameras?: CameraInfo[];
}

export async function exportPointCloud(
  path: string,
  cloud: PointCloud,
  opts: ExportPointCloudOptions,
): Promise<{ bytes: number; pointCount: number }> {
  if (opts.format === 'ply') return writePly(path, cloud, opts.encoding ?? 'binary', opts);
  if (opts.encoding === 'ascii')
    throw new StudioError(
      'invalid-input',
      'GLB is a binary format; it has no ASCII encoding.',
      'Leave out the encoding for GLB, or export PLY for an ASCII file.',
    );
  if (opts.upAxis !== undefined && opts.upAxis !== 'y-up')
    throw new StudioError(
      'invalid-input',
      `GLB files are always y-up (the glTF specification fixes it); "${opts.upAxis}" cannot be written.`,
      'Leave out the up axis for GLB, or export PLY for OpenCV or z-up axes.',
    );
  return writeGlb(path, cloud, opts.cameras ?? [], opts);
}
