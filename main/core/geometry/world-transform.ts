// The world a scene is shown and exported in: its stored (model) world, levelled
// by the ground alignment when one is set (a rigid transform) and then in metres
// when it has a scale. Stored points and poses never change; every edge that
// hands geometry to a user (viewer, PLY/GLB, camera formats) goes through here.

import type { CameraInfo, SceneSummary } from '../../common/domain';
import type { PointCloud } from '../pointcloud/point-cloud';
import { multiply4 } from '../../base/camera-math';

export const IDENTITY4 = Object.freeze([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) as readonly number[];

export interface WorldTransform {
  /** Rigid row-major 4x4 applied first. */
  transform: readonly number[];
  /** Then every length is multiplied by this (1 without a scale). */
  scale: number;
}

export function sceneWorldTransform(
  scene: Pick<SceneSummary, 'groundAlignment' | 'metresPerUnit'>,
): WorldTransform {
  return { transform: scene.groundAlignment ?? IDENTITY4, scale: scene.metresPerUnit ?? 1 };
}

export const isIdentityTransform = (world: WorldTransform): boolean =>
  world.scale === 1 && world.transform.every((v, i) => v === IDENTITY4[i]);

/** The cloud in the exported world (a new positions array; colours shared). */
export function transformCloud(cloud: PointCloud, world: WorldTransform): PointCloud {
  if (isIdentityTransform(world)) return cloud;
  const { positions, colors, count } = cloud;
  const m = world.transform,
    s = world.scale;
  const out = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const x = positions[3 * i],
      y = positions[3 * i + 1],
      z = positions[3 * i + 2];
    out[3 * i] = (m[0] * x + m[1] * y + m[2] * z + m[3]) * s;
    out[3 * i + 1] = (m[4] * x + m[5] * y + m[6] * z + m[7]) * s;
    out[3 * i + 2] = (m[8] * x + m[9] * y + m[10] * z + m[11]) * s;
  }
  return { positions: out, colors, count };
}

/** A camera-to-world pose in the exported world: rotation levelled, translation levelled then scaled. */
export function transformPose(worldFromCamera: readonly number[], world: WorldTransform): number[] {
  const pose = multiply4(world.transform, worldFromCamera);
  for (const at of [3, 7, 11]) pose[at] *= world.scale;
  return pose;
}

export function transformCameras(cameras: CameraInfo[], world: WorldTransform): CameraInfo[] {
  if (isIdentityTransform(world)) return cameras;
  return cameras.map((camera) => ({
    ...camera,
    worldFromCamera: transformPose(camera.worldFromCamera, world),
  }));
}
