// A posed capture (COLMAP model or transforms.json) becomes a scene: its
// images are the frames (read like any photos), its cameras are stored as the
// scene's reconstruction (poses + intrinsics, no per-pixel point maps: the
// map-based quality filters are not offered for it), its points are the cloud.

import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CameraInfo } from '../../common/domain';
import { StudioError } from '../../common/errors';
import { importPhotos } from '../ingest/photo-import';
import type { IngestProgress } from '../ingest/types';
import type { NewFrame, NewReconstruction } from '../library/scene-store';
import { findColmapModel, readColmapModel } from './colmap-model';
import { readTransformsJson } from './nerfstudio-transforms-reader';
import type { PosedCapture } from './posed-capture';

/** Which posed-capture format `path` holds, or null for none. Reads only names, never contents. */
export function detectPosedCapture(path: string): 'colmap' | 'nerfstudio' | null {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return null;
  }
  if (!isDir) return basename(path).toLowerCase() === 'transforms.json' ? 'nerfstudio' : null;
  if (existsSync(join(path, 'transforms.json'))) return 'nerfstudio';
  return findColmapModel(path) ? 'colmap' : null;
}

export interface PosedImport {
  capture: PosedCapture;
  frames: NewFrame[];
  /** The reconstruction to store once the scene's frames have ids. */
  reconstruction(frameIds: string[]): NewReconstruction;
}

export async function readPosedCapture(
  path: string,
  format: 'colmap' | 'nerfstudio',
  opts: { signal?: AbortSignal; onProgress?: IngestProgress } = {},
): Promise<PosedImport> {
  opts.onProgress?.(0, 'cameras');
  const capture = format === 'colmap' ? await readColmapModel(path, opts) : await readTransformsJson(path);
  opts.signal?.throwIfAborted();
  // One photo at a time, so the frames keep the capture's order (importPhotos sorts a list by name).
  const photos: NewFrame[] = [];
  for (const [i, frame] of capture.frames.entries()) {
    opts.onProgress?.(0.1 + (0.9 * i) / capture.frames.length, 'decode');
    const [photo] = (await importPhotos([frame.imagePath], { signal: opts.signal })).frames;
    photos.push(photo);
  }
  // Every image is a frame of the capture, in the capture's order, all selected.
  const frames: NewFrame[] = photos.map((photo, i) => ({ ...photo, index: i, selected: true }));
  const cameras = capture.frames.map((frame, i) => {
    const k = frame.intrinsics;
    const photo = photos[i];
    // The photo as read (EXIF orientation applied) must be the image the camera describes:
    // a uniform resize scales the intrinsics; anything else (a rotation) would misplace every pixel.
    const sx = photo.width / k.width;
    const sy = photo.height / k.height;
    if (Math.abs(sx - sy) > 0.01 * Math.max(sx, sy)) {
      throw new StudioError(
        'corrupt-media',
        `The image "${frame.name}" is ${photo.width}x${photo.height}, but its camera is ${k.width}x${k.height}.`,
        'Use the images the capture was made from, without rotating them (remove an EXIF orientation tag if one was added).',
      );
    }
    return {
      worldFromCamera: frame.worldFromCamera,
      intrinsics: {
        fx: k.fx * sx,
        fy: k.fy * sy,
        cx: k.cx * sx,
        cy: k.cy * sy,
        width: photo.width,
        height: photo.height,
      },
    };
  });
  const points = capture.points ?? { positions: new Float32Array(0), colors: null, count: 0 };
  return {
    capture,
    frames,
    reconstruction(frameIds: string[]): NewReconstruction {
      const worldFromCamera = new Float32Array(16 * cameras.length);
      cameras.forEach((c, i) => worldFromCamera.set(c.worldFromCamera, 16 * i));
      const cameraInfos: CameraInfo[] = cameras.map((c, i) => ({
        frameId: frameIds[i],
        frameIndex: i,
        worldFromCamera: c.worldFromCamera,
        intrinsics: c.intrinsics,
      }));
      return {
        // Not a model run: the cameras came with the capture.
        modelId: `imported-${capture.format}`,
        precision: 'imported',
        executionProvider: 'none',
        frameCount: cameras.length,
        mapWidth: 0,
        mapHeight: 0,
        timingsMs: {},
        worldFromCamera,
        localPointMaps: new Float32Array(0),
        mapColors: null,
        cameras: cameraInfos,
        points,
      };
    },
  };
}
