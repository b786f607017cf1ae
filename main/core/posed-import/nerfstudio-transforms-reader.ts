// Reads a nerfstudio-style transforms.json (nerfstudio's own data format, and
// what Polycam, Record3D, KIRI and instant-ngp style exporters write):
// per-frame `transform_matrix` = camera-to-world in OpenGL camera axes (x right,
// y up, looking down -z); pinhole intrinsics (fl_x, fl_y, cx, cy, w, h) at the
// top level or per frame, or a horizontal field of view `camera_angle_x`;
// optional `ply_file_path` for the points. We store OpenCV axes, so the
// camera's y and z columns flip (the same flip the exporter applies).

import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openGlFromOpenCvCameraToWorld } from '../../base/camera-math';
import { readPly } from '../pointcloud/ply-reader';
import {
  MAX_CAPTURE_FRAMES,
  checkIntrinsics,
  corruptCapture,
  pathInside,
  type PinholeIntrinsics,
  type PosedCapture,
  type PosedFrame,
} from './posed-capture';

const WHAT = 'The transforms.json';
/** A transforms.json is metadata: a few MB even for thousands of frames. */
const MAX_TRANSFORMS_BYTES = 64 * 2 ** 20;
const DISTORTION_KEYS = ['k1', 'k2', 'k3', 'k4', 'p1', 'p2'];

type Json = Record<string, unknown>;

function num(obj: Json, key: string): number | undefined {
  const v = obj[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Intrinsics from a frame's own fields, falling back to the file's top level. */
function intrinsicsOf(frame: Json, top: Json, label: string): PinholeIntrinsics {
  const get = (key: string): number | undefined => num(frame, key) ?? num(top, key);
  const w = get('w');
  const h = get('h');
  if (w === undefined || h === undefined) throw corruptCapture(WHAT, `${label} has no image size (w, h)`);
  let fx = get('fl_x');
  let fy = get('fl_y');
  const angleX = get('camera_angle_x');
  const angleY = get('camera_angle_y');
  if (fx === undefined && angleX !== undefined) fx = (0.5 * w) / Math.tan(0.5 * angleX);
  if (fy === undefined && angleY !== undefined) fy = (0.5 * h) / Math.tan(0.5 * angleY);
  fx ??= fy;
  fy ??= fx;
  if (fx === undefined || fy === undefined) {
    throw corruptCapture(WHAT, `${label} has no focal length (fl_x / fl_y / camera_angle_x)`);
  }
  return checkIntrinsics(
    { fx, fy, cx: get('cx') ?? w / 2, cy: get('cy') ?? h / 2, width: w, height: h },
    WHAT,
  );
}

function matrixOf(frame: Json, label: string): number[] {
  const rows = frame.transform_matrix;
  const flat = Array.isArray(rows) ? rows.flat() : [];
  if (
    !Array.isArray(rows) ||
    (rows.length !== 4 && rows.length !== 3) ||
    flat.length !== rows.length * 4 ||
    !flat.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw corruptCapture(WHAT, `${label} has no valid 4x4 transform_matrix`);
  }
  const m = (flat as number[]).slice(0, 12).concat([0, 0, 0, 1]);
  // Flipping the camera's y and z axes is its own inverse: OpenGL -> OpenCV.
  return openGlFromOpenCvCameraToWorld(m);
}

/** `path` is a transforms.json file or a folder holding one. */
export async function readTransformsJson(path: string): Promise<PosedCapture> {
  const file = (await stat(path)).isDirectory() ? `${path}/transforms.json` : path;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw corruptCapture(WHAT, `${file} is not a file`);
  if (info.size > MAX_TRANSFORMS_BYTES)
    throw corruptCapture(WHAT, `it is ${info.size} bytes, far more than camera metadata needs`);
  let top: Json;
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    top = parsed as Json;
  } catch (error) {
    throw corruptCapture(WHAT, `it is not valid JSON (${(error as Error).message})`);
  }
  const root = dirname(file);
  const list = top.frames;
  if (!Array.isArray(list) || list.length === 0) throw corruptCapture(WHAT, 'it has no frames');
  if (list.length > MAX_CAPTURE_FRAMES)
    throw corruptCapture(WHAT, `it lists more than ${MAX_CAPTURE_FRAMES} frames`);
  const warnings: string[] = [];
  const model = typeof top.camera_model === 'string' ? top.camera_model : 'OPENCV';
  const hasDistortion = (o: Json): boolean => DISTORTION_KEYS.some((k) => (num(o, k) ?? 0) !== 0);
  if (model !== 'OPENCV' && model !== 'PINHOLE') {
    warnings.push(
      `The ${model} camera model is read as a pinhole camera; undistort the images first where it matters.`,
    );
  }
  const frames: PosedFrame[] = list.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null) throw corruptCapture(WHAT, `frame ${i} is not an object`);
    const frame = raw as Json;
    const label = `frame ${i}`;
    if (typeof frame.file_path !== 'string') throw corruptCapture(WHAT, `${label} has no file_path`);
    if (hasDistortion(frame) || (i === 0 && hasDistortion(top))) {
      if (!warnings.some((w) => w.startsWith('Lens distortion'))) {
        warnings.push("Lens distortion (k1, k2, p1, p2, ...) was dropped: the studio's cameras are pinhole.");
      }
    }
    return {
      imagePath: pathInside(root, frame.file_path, WHAT),
      name: frame.file_path,
      worldFromCamera: matrixOf(frame, label),
      intrinsics: intrinsicsOf(frame, top, label),
    };
  });
  let points = null;
  if (typeof top.ply_file_path === 'string') {
    const cloud = await readPly(pathInside(root, top.ply_file_path, WHAT));
    points = { positions: cloud.positions, colors: cloud.colors, count: cloud.count };
  }
  return { format: 'nerfstudio', root, frames, points, warnings };
}
