// Reads a COLMAP sparse model, text (cameras.txt, images.txt, points3D.txt) or
// binary (cameras.bin, images.bin, points3D.bin), as COLMAP writes them
// (src/colmap/scene/reconstruction_io.cc). The folder layout is the usual one:
// <root>/sparse/0/ (or <root>/sparse/, or the model folder itself) beside
// <root>/images/. Every count is checked against the file's size before
// anything is allocated.
//
// COLMAP stores an image's world-to-camera pose (quaternion w-first + t) in
// OpenCV camera axes; we store camera-to-world. Lens distortion parameters are
// read and dropped with a warning: the studio's cameras are pinhole.

import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { invertRigid, rotationFromQuaternion } from '../../base/camera-math';
import {
  MAX_CAPTURE_FRAMES,
  MAX_CAPTURE_POINTS,
  checkIntrinsics,
  corruptCapture,
  pathInside,
  yieldToEventLoop,
  type PinholeIntrinsics,
  type PosedCapture,
  type PosedFrame,
} from './posed-capture';
import type { ScenePoints } from '../library/scene-store';

const WHAT = 'The COLMAP model';

/** Camera models by COLMAP id (the index): name and parameter count. */
const CAMERA_MODELS: { name: string; params: number }[] = [
  { name: 'SIMPLE_PINHOLE', params: 3 },
  { name: 'PINHOLE', params: 4 },
  { name: 'SIMPLE_RADIAL', params: 4 },
  { name: 'RADIAL', params: 5 },
  { name: 'OPENCV', params: 8 },
  { name: 'OPENCV_FISHEYE', params: 8 },
  { name: 'FULL_OPENCV', params: 12 },
  { name: 'FOV', params: 5 },
  { name: 'SIMPLE_RADIAL_FISHEYE', params: 4 },
  { name: 'RADIAL_FISHEYE', params: 5 },
  { name: 'THIN_PRISM_FISHEYE', params: 12 },
];
const SINGLE_FOCAL = new Set([
  'SIMPLE_PINHOLE',
  'SIMPLE_RADIAL',
  'RADIAL',
  'SIMPLE_RADIAL_FISHEYE',
  'RADIAL_FISHEYE',
  'FOV',
]);

interface ColmapCamera {
  model: string;
  intrinsics: PinholeIntrinsics;
}

interface ColmapImage {
  cameraId: number;
  name: string;
  /** World-to-camera rotation quaternion (w, x, y, z) and translation. */
  q: number[];
  t: number[];
}

/** The folder holding cameras/images/points3D of `root`, or null when it has none. */
export function findColmapModel(root: string): string | null {
  for (const dir of [join(root, 'sparse', '0'), join(root, 'sparse'), root]) {
    for (const ext of ['bin', 'txt']) {
      if (existsSync(join(dir, `cameras.${ext}`)) && existsSync(join(dir, `images.${ext}`))) return dir;
    }
  }
  return null;
}

/** The images folder of a COLMAP project: <root>/images, else the project folder itself. */
function imagesFolder(root: string): string {
  const images = join(root, 'images');
  return existsSync(images) && statSync(images).isDirectory() ? images : root;
}

export async function readColmapModel(
  root: string,
  opts: { signal?: AbortSignal } = {},
): Promise<PosedCapture> {
  const modelDir = findColmapModel(root);
  if (!modelDir) throw corruptCapture(WHAT, `no cameras and images files were found under ${root}`);
  const binary = existsSync(join(modelDir, 'cameras.bin')) && existsSync(join(modelDir, 'images.bin'));
  const warnings: string[] = [];
  const cameras = binary
    ? parseCamerasBin(await readFile(join(modelDir, 'cameras.bin')))
    : parseCamerasText(await readFile(join(modelDir, 'cameras.txt'), 'utf8'));
  const images = binary
    ? parseImagesBin(await readFile(join(modelDir, 'images.bin')))
    : parseImagesText(await readFile(join(modelDir, 'images.txt'), 'utf8'));
  const distorted = new Set([...cameras.values()].map((c) => c.model).filter((m) => !/PINHOLE$/.test(m)));
  if (distorted.size > 0) {
    warnings.push(
      `Lens distortion of the ${[...distorted].join(', ')} camera model was dropped: the studio's cameras are pinhole, so undistort the images first (colmap image_undistorter) where it matters.`,
    );
  }
  const folder = imagesFolder(root);
  const frames: PosedFrame[] = images.map((image) => {
    const camera = cameras.get(image.cameraId);
    if (!camera)
      throw corruptCapture(WHAT, `image "${image.name}" uses camera ${image.cameraId}, which is not listed`);
    const r = rotationFromQuaternion(image.q);
    const cameraFromWorld = [
      ...[r[0], r[1], r[2], image.t[0]],
      ...[r[3], r[4], r[5], image.t[1]],
      ...[r[6], r[7], r[8], image.t[2]],
      ...[0, 0, 0, 1],
    ];
    return {
      imagePath: pathInside(folder, image.name, WHAT),
      name: image.name,
      worldFromCamera: invertRigid(cameraFromWorld),
      intrinsics: { ...camera.intrinsics },
    };
  });
  if (frames.length === 0) throw corruptCapture(WHAT, 'it has no registered images');

  let points: ScenePoints | null = null;
  if (binary && existsSync(join(modelDir, 'points3D.bin'))) {
    points = await parsePointsBin(join(modelDir, 'points3D.bin'), opts.signal);
  } else if (existsSync(join(modelDir, 'points3D.txt'))) {
    points = await parsePointsText(join(modelDir, 'points3D.txt'), opts.signal);
  }
  const where = relative(root, modelDir).split(sep).join('/');
  const layout = `${binary ? 'binary' : 'text'}${where ? `, ${where}` : ''}`;
  return { format: 'colmap', root, frames, points, warnings, layout };
}

function pinholeOf(model: string, width: number, height: number, p: number[]): PinholeIntrinsics {
  const single = SINGLE_FOCAL.has(model);
  const k = single
    ? { fx: p[0], fy: p[0], cx: p[1], cy: p[2], width, height }
    : { fx: p[0], fy: p[1], cx: p[2], cy: p[3], width, height };
  return checkIntrinsics(k, WHAT);
}

// ---- text ----

function dataLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

function numbers(fields: string[], what: string): number[] {
  const out = fields.map(Number);
  if (out.some((v) => !Number.isFinite(v)))
    throw corruptCapture(WHAT, `${what} has a field that is not a number`);
  return out;
}

function parseCamerasText(text: string): Map<number, ColmapCamera> {
  const cameras = new Map<number, ColmapCamera>();
  for (const line of dataLines(text)) {
    const [id, model, w, h, ...params] = line.trim().split(/\s+/);
    const spec = CAMERA_MODELS.find((m) => m.name === model);
    if (!spec) throw corruptCapture(WHAT, `cameras.txt names an unknown camera model "${model}"`);
    if (params.length !== spec.params) {
      throw corruptCapture(
        WHAT,
        `camera ${id} (${model}) has ${params.length} parameters, not ${spec.params}`,
      );
    }
    const [cameraId, width, height] = numbers([id, w, h], `camera ${id}`);
    cameras.set(cameraId, {
      model,
      intrinsics: pinholeOf(model, width, height, numbers(params, `camera ${id}`)),
    });
  }
  return cameras;
}

function parseImagesText(text: string): ColmapImage[] {
  // Two lines per image: the pose line, then the 2D points (possibly empty, so
  // blank lines count here: only comments are skipped).
  const lines = text.split(/\r?\n/).filter((l) => !l.startsWith('#'));
  const images: ColmapImage[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const line = lines[i].trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length < 10) throw corruptCapture(WHAT, `images.txt line "${line.slice(0, 80)}" is too short`);
    const v = numbers(fields.slice(1, 9), `image ${fields[0]}`);
    images.push({ q: v.slice(0, 4), t: v.slice(4, 7), cameraId: v[7], name: fields.slice(9).join(' ') });
    if (images.length > MAX_CAPTURE_FRAMES)
      throw corruptCapture(WHAT, `it lists more than ${MAX_CAPTURE_FRAMES} images`);
  }
  return images;
}

/** Points files are read whole; above this they are refused (Node reads at most 2 GiB at once). */
const MAX_POINTS_FILE_BYTES = 2 ** 31 - 1;

async function readPointsFile(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_POINTS_FILE_BYTES) {
      throw corruptCapture(
        WHAT,
        `${path} is ${(size / 2 ** 30).toFixed(1)} GiB, more than the 2 GiB of points the studio reads from a capture`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function parsePointsText(path: string, signal?: AbortSignal): Promise<ScenePoints> {
  const bytes = await readPointsFile(path);
  let lineCount = 1;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lineCount++;
  if (lineCount > MAX_CAPTURE_POINTS) throw tooManyPoints(lineCount);
  const positions = new Float32Array(lineCount * 3);
  const colors = new Uint8Array(lineCount * 3);
  let count = 0;
  for (let start = 0, n = 0; start < bytes.length; n++) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const line = bytes.toString('latin1', start, end).trim();
    start = end + 1;
    if (n % 50_000 === 0) {
      signal?.throwIfAborted();
      await yieldToEventLoop();
    }
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length < 8) throw corruptCapture(WHAT, `points3D.txt line "${line.slice(0, 80)}" is too short`);
    const v = numbers(f.slice(1, 7), `point ${f[0]}`);
    positions.set(v.slice(0, 3), 3 * count);
    colors.set(
      v.slice(3, 6).map((c) => Math.max(0, Math.min(255, Math.round(c)))),
      3 * count,
    );
    count++;
  }
  return { positions: positions.slice(0, 3 * count), colors: colors.slice(0, 3 * count), count };
}

// ---- binary ----

class BinaryCursor {
  private offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly file: string,
  ) {}
  need(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.length) {
      throw corruptCapture(WHAT, `${this.file} ends early (needs ${n} more bytes at byte ${this.offset})`);
    }
  }
  count(perItemBytes: number, max: number, what: string): number {
    this.need(8);
    const n = this.bytes.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (n > BigInt(max))
      throw corruptCapture(WHAT, `${this.file} claims ${n} ${what} (at most ${max} are read)`);
    const count = Number(n);
    // Each item takes at least perItemBytes: a count the file cannot hold is refused before any allocation.
    this.need(count * perItemBytes);
    return count;
  }
  i32(): number {
    this.need(4);
    const v = this.bytes.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.bytes.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw corruptCapture(WHAT, `${this.file} has an impossible size field`);
    return Number(v);
  }
  f64(): number {
    this.need(8);
    const v = this.bytes.readDoubleLE(this.offset);
    this.offset += 8;
    return v;
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }
  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
  cString(): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0 || end - this.offset > 4096)
      throw corruptCapture(WHAT, `${this.file} has an unterminated name`);
    const s = this.bytes.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
}

function parseCamerasBin(bytes: Buffer): Map<number, ColmapCamera> {
  const c = new BinaryCursor(bytes, 'cameras.bin');
  const n = c.count(24, MAX_CAPTURE_FRAMES, 'cameras');
  const cameras = new Map<number, ColmapCamera>();
  for (let i = 0; i < n; i++) {
    const id = c.i32();
    const modelId = c.i32();
    const spec = CAMERA_MODELS[modelId];
    if (!spec) throw corruptCapture(WHAT, `cameras.bin has an unknown camera model id ${modelId}`);
    const width = c.u64();
    const height = c.u64();
    const params = Array.from({ length: spec.params }, () => c.f64());
    cameras.set(id, { model: spec.name, intrinsics: pinholeOf(spec.name, width, height, params) });
  }
  return cameras;
}

function parseImagesBin(bytes: Buffer): ColmapImage[] {
  const c = new BinaryCursor(bytes, 'images.bin');
  const n = c.count(4 + 7 * 8 + 4 + 1 + 8, MAX_CAPTURE_FRAMES, 'images');
  const images: ColmapImage[] = [];
  for (let i = 0; i < n; i++) {
    c.i32(); // image id: the order of the file is the order of the frames
    const q = [c.f64(), c.f64(), c.f64(), c.f64()];
    const t = [c.f64(), c.f64(), c.f64()];
    const cameraId = c.i32();
    const name = c.cString();
    const points2D = c.u64();
    c.skip(points2D * 24); // x, y (double) and point3D id (int64) per observation
    if (![...q, ...t].every(Number.isFinite))
      throw corruptCapture(WHAT, `image "${name}" has a non-finite pose`);
    images.push({ q, t, cameraId, name });
  }
  return images;
}

async function parsePointsBin(path: string, signal?: AbortSignal): Promise<ScenePoints> {
  const bytes = await readPointsFile(path);
  const c = new BinaryCursor(bytes, 'points3D.bin');
  const count = c.count(43, MAX_CAPTURE_POINTS, 'points');
  const positions = new Float32Array(count * 3);
  const colors = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    if (i % 100_000 === 0) {
      signal?.throwIfAborted();
      await yieldToEventLoop();
    }
    c.u64(); // point id
    positions[3 * i] = c.f64();
    positions[3 * i + 1] = c.f64();
    positions[3 * i + 2] = c.f64();
    colors[3 * i] = c.u8();
    colors[3 * i + 1] = c.u8();
    colors[3 * i + 2] = c.u8();
    c.f64(); // reprojection error
    c.skip(c.u64() * 8); // track: (image id, point2D index) int32 pairs
  }
  return { positions, colors, count };
}

function tooManyPoints(count: number): Error {
  return corruptCapture(
    WHAT,
    `its points file holds about ${count} points, more than the ${MAX_CAPTURE_POINTS} the studio reads from a capture`,
  );
}
