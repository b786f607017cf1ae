// Reads a point cloud file, choosing the reader by content (magic bytes), not
// by extension. Result is in OpenCV world axes (see axes.ts), holds only
// finite points, and says how many non-finite ones were left out.

import { basename } from 'node:path';
import { StudioError } from '../../common/errors';
import { sniffFile } from '../ingest/media-kind';
import { readGltf } from './gltf-reader';
import { dropNonFinitePoints, type PointCloud, type PointCloudTaskOptions } from './point-cloud';
import { readPly } from './ply-reader';

export interface ImportedPointCloud extends PointCloud {
  /** Points the file held with a NaN or infinite coordinate: left out, not stored. */
  droppedNonFinite: number;
}

export async function importPointCloud(
  path: string,
  opts: PointCloudTaskOptions = {},
): Promise<ImportedPointCloud> {
  const container = await sniffFile(path); // unreadable-path / empty-file
  if (container.kind !== 'pointcloud')
    throw new StudioError(
      'unsupported-file',
      `"${basename(path)}" is not a point cloud we can read.`,
      'Choose a PLY, GLB or glTF file.',
    );
  const read = container.format === 'ply' ? await readPly(path, opts) : await readGltf(path, opts);
  const { cloud, dropped } = await dropNonFinitePoints(read, opts);
  return { ...cloud, droppedNonFinite: dropped };
}
