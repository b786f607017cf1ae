// A posed capture: images whose cameras are already known, as another tool
// (COLMAP, nerfstudio-style transforms.json from Polycam, Record3D, ...) wrote
// them. Readers turn each format into this one shape; import-posed-capture.ts
// stores it as a scene with frames, cameras and points, so the studio's
// cleaning, measuring, export and Q&A work on it as on a reconstruction.
// Conventions as everywhere in the core: OpenCV camera axes (x right, y down,
// z forward), row-major 4x4 worldFromCamera, pinhole intrinsics in pixels of
// the image file.

import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { StudioError } from '../../common/errors';
import type { ScenePoints } from '../library/scene-store';

export interface PinholeIntrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

export interface PosedFrame {
  /** Absolute path of the image file (checked to lie inside the capture's folder). */
  imagePath: string;
  /** The name the capture gives the image (COLMAP NAME, transforms.json file_path). */
  name: string;
  worldFromCamera: number[];
  intrinsics: PinholeIntrinsics;
}

export interface PosedCapture {
  format: 'colmap' | 'nerfstudio';
  /** The folder the capture was read from. */
  root: string;
  frames: PosedFrame[];
  points: ScenePoints | null;
  /** What was read but not kept (lens distortion, unknown fields), in plain words. */
  warnings: string[];
  /** Where in the folder the cameras came from, in words (e.g. "binary, sparse/0"). */
  layout?: string;
}

/**
 * What an import found, for the job log and result: "COLMAP model (binary,
 * sparse/0): 8 images, 1 camera, 1,204 points". Cameras are counted as
 * distinct lenses (intrinsics), the way both formats share them.
 */
export function describePosedCapture(capture: PosedCapture): string {
  const lenses = new Set(
    capture.frames.map(({ intrinsics: k }) => [k.fx, k.fy, k.cx, k.cy, k.width, k.height].join(',')),
  ).size;
  const count = (n: number, one: string, many: string): string =>
    `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
  const what = capture.format === 'colmap' ? 'COLMAP model' : 'transforms.json';
  const parts = [
    count(capture.frames.length, 'image', 'images'),
    count(lenses, 'camera', 'cameras'),
    count(capture.points?.count ?? 0, 'point', 'points'),
  ];
  return `${what}${capture.layout ? ` (${capture.layout})` : ''}: ${parts.join(', ')}`;
}

/** At most this many points are read from a capture; above it the import is refused before allocating. */
export const MAX_CAPTURE_POINTS = 100_000_000;
/** At most this many images (a capture is a few hundred to a few thousand frames). */
export const MAX_CAPTURE_FRAMES = 100_000;

export function corruptCapture(what: string, detail: string): StudioError {
  return new StudioError(
    'corrupt-media',
    `${what} cannot be read: ${detail}.`,
    'Export the capture again from the tool that made it, or import its images as photos.',
  );
}

/**
 * The absolute path of `name` inside `folder`, refusing absolute names and any
 * name (or symlink) that leads outside it: a capture from the internet must not
 * make the studio read ~/.ssh.
 */
export function pathInside(folder: string, name: string, what: string): string {
  if (name.length === 0 || name.includes('\0') || isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name)) {
    throw corruptCapture(what, `the image path "${name}" is not a relative path`);
  }
  const root = realpathSync(folder);
  const full = resolve(root, name);
  const outside = (path: string): boolean => {
    const rel = relative(root, path);
    return rel.startsWith('..') || isAbsolute(rel);
  };
  if (outside(full))
    throw corruptCapture(what, `the image path "${name}" leads outside the capture's folder`);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    throw new StudioError(
      'unreadable-path',
      `${what} names the image "${name}", which is not in ${folder}.`,
      'Keep the images beside the capture as the tool wrote them (COLMAP: images/; transforms.json: its file_path).',
    );
  }
  // A symlink inside the folder may still point out of it.
  if (outside(real))
    throw corruptCapture(what, `the image path "${name}" leads outside the capture's folder`);
  return real;
}

export function checkIntrinsics(k: PinholeIntrinsics, what: string): PinholeIntrinsics {
  const ok =
    [k.fx, k.fy, k.cx, k.cy].every(Number.isFinite) &&
    k.fx > 0 &&
    k.fy > 0 &&
    Number.isInteger(k.width) &&
    Number.isInteger(k.height) &&
    k.width > 0 &&
    k.height > 0 &&
    k.width <= 65_536 &&
    k.height <= 65_536;
  if (!ok) throw corruptCapture(what, `a camera has invalid intrinsics (${JSON.stringify(k)})`);
  return k;
}

/** Yields to the event loop: long parses call it every few thousand records. */
export const yieldToEventLoop = (): Promise<void> => new Promise((done) => setImmediate(done));
