// What a camera export needs, prepared once for both formats: the selected
// frames with their poses and intrinsics in the pixels of the image written,
// the edited point cloud, all in metres once the scene has a scale, and
// optionally levelled (a rigid world transform, e.g. geometry/ground-plane.ts).

import type { CameraInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import type { PointCloud } from '../pointcloud/point-cloud';
import { transformCloud, transformPose, type WorldTransform } from '../geometry/world-transform';
import { isRigid } from '../../base/camera-math';
import { shareIntrinsics } from './shared-intrinsics';

export interface ExportFrame {
  camera: CameraInfo;
  /** The frame image as stored (JPEG/PNG) and its size in pixels. */
  image: { bytes: Uint8Array; mime: string; width: number; height: number };
}

export interface CameraExportInput {
  /** The selected frames, in export order. */
  frames: ExportFrame[];
  /** The edited cloud (applyEdits → editedPointCloud), scene units. */
  points: PointCloud;
  /** Metres per unit when the scene has a scale; positions and translations are multiplied by it. */
  metresPerUnit: number | null;
  /** Optional rigid row-major 4x4 applied to the world first (e.g. a levelling transform). */
  worldTransform?: number[];
}

export interface PreparedCamera {
  /** Image file name inside images/. */
  fileName: string;
  frameIndex: number;
  /** Row-major 4x4, OpenCV axes, exported world (transformed and scaled). */
  worldFromCamera: number[];
  /** Pinhole intrinsics in the pixels of the written image. */
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
  image: Uint8Array;
}

export interface PreparedScene {
  cameras: PreparedCamera[];
  /** Positions in the exported world. */
  points: PointCloud;
}

const extensionOf = (mime: string): string => (mime === 'image/png' ? 'png' : 'jpg');

export function prepareCameraExport(input: CameraExportInput): PreparedScene {
  if (input.frames.length === 0) {
    throw new StudioError(
      'invalid-input',
      'No frames are selected for the export.',
      'Select at least one frame.',
    );
  }
  const scale = input.metresPerUnit ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new StudioError(
      'invalid-input',
      `The scene scale ${scale} is not valid.`,
      'Set the scale again from a known distance.',
    );
  }
  const transform = input.worldTransform ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  if (transform.length !== 16 || !isRigid(transform)) {
    throw new StudioError(
      'invalid-input',
      'The scene alignment is not a rigid transform.',
      'Set the ground plane again.',
    );
  }
  const world: WorldTransform = { transform, scale };
  const used = new Set<string>();
  const cameras = input.frames.map(({ camera, image }) => {
    const k = camera.intrinsics;
    if (!k) {
      throw new StudioError(
        'invalid-input',
        `Frame ${camera.frameIndex} has no camera intrinsics, so it cannot be exported as a camera.`,
        'Leave this frame out of the export, or reconstruct the scene again.',
      );
    }
    if (camera.worldFromCamera.length !== 16 || !isRigid(camera.worldFromCamera)) {
      throw new StudioError(
        'invalid-input',
        `Frame ${camera.frameIndex} has no valid camera pose.`,
        'Leave this frame out of the export, or reconstruct the scene again.',
      );
    }
    const pose = transformPose(camera.worldFromCamera, world);
    // The model saw a resized copy of the frame (a pure resize, no crop:
    // preprocess/dino-image.ts), so intrinsics scale per axis.
    const sx = image.width / k.width,
      sy = image.height / k.height;
    let fileName = `frame_${String(camera.frameIndex).padStart(5, '0')}.${extensionOf(image.mime)}`;
    while (used.has(fileName)) fileName = `_${fileName}`;
    used.add(fileName);
    return {
      fileName,
      frameIndex: camera.frameIndex,
      worldFromCamera: pose,
      fx: k.fx * sx,
      fy: k.fy * sy,
      cx: k.cx * sx,
      cy: k.cy * sy,
      width: image.width,
      height: image.height,
      image: image.bytes,
    };
  });
  return { cameras: shareIntrinsics(cameras), points: transformCloud(input.points, world) };
}
