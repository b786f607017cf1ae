// Reads a point cloud file, choosing the reader by content (magic bytes), not
// by extension. Result is in OpenCV world axes (see axes.ts).

import { basename } from 'node:path';
import { StudioError } from '../../common/errors';
import { sniffFile } from '../ingest/media-kind';
import { readGltf } from './gltf-reader';
import type { PointCloud, PointCloudTaskOptions } from './point-cloud';
import { readPly } from './ply-reader';

export async function importPointCloud(path: string, opts: PointCloudTaskOptions = {}): Promise<PointCloud> {
  const container = await sniffFile(path); // unreadable-path / empty-file
  if (container.kind !== 'pointcloud')
    throw new StudioError(
      'unsupported-file',
      `"${basename(path)}" is not a point cloud we can read.`,
      'Choose a PLY, GLB or glTF file.',
    );
  return container.format === 'ply' ? readPly(path, opts) : readGltf(path, opts);
}
