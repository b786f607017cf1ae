// The viewer benchmark page: the same synthetic room drawn by a plain
// THREE.Points + PointsMaterial (the baseline) and by BudgetedPointCloud, each
// frame synchronised with a pixel read so its time is the whole GPU frame.
// main/bench/viewer-bench.ts drives it through `window.viewerBench`.

import {
  BufferAttribute,
  BufferGeometry,
  Group,
  LinearSRGBColorSpace,
  NoToneMapping,
  PerspectiveCamera,
  Points,
  PointsMaterial,
  Scene,
  WebGLRenderer,
  type Object3D,
} from 'three';
import { THREE_FROM_OPENCV_EULER } from '../src/scene/opencv-axes';
import { BudgetedPointCloud } from '../src/scene/points/budgeted-point-cloud';
import { DEFAULT_BUDGET } from '../src/scene/points/point-budget';
import { pickPoint } from '../src/scene/points/point-picking';
import { syntheticRoom, type SyntheticCloud } from './synthetic-room';

export interface FrameRun {
  /** First frame: buffer upload and shader compile included. */
  firstFrameMs: number;
  movingMs: number[];
  stillMs: number[];
  /** Points drawn per moving / still frame (hidden ones included). */
  movingDrawn: number;
  stillDrawn: number;
  /** JS heap growth summed over the moving frames, bytes (null without performance.memory). */
  movingHeapGrowth: number | null;
  /** Typed-array bytes the renderer side keeps on the CPU after the upload. */
  cpuBytesKept: number;
  /** Fraction of the canvas covered by points in a still frame (sanity: both draw the scene). */
  coverage: number;
  /** Mean colour (0..255) of the covered pixels in that frame. */
  meanColor: [number, number, number];
}

export interface BudgetedRun extends FrameRun {
  /** Shuffle + draw-order copies (CPU, before the first frame). */
  buildMs: number;
  /** pickPoint at the centre of the view, best of 3. */
  pickMs: number;
  /** setMasks with half the points hidden (CPU). */
  maskMs: number;
  /** The frame after the mask change (1-byte visibility upload included). */
  maskFrameMs: number;
  /** Coverage with half the room hidden: must drop. */
  maskedCoverage: number;
  /** Orbiting frames with the app's adaptive budget (DEFAULT_BUDGET), from its starting budget on. */
  adaptiveMs: number[];
  /** Points drawn in each of those frames. */
  adaptiveDrawn: number[];
}

export interface Comparison {
  plain: FrameRun;
  budgeted: BudgetedRun;
}

export interface RunOptions {
  movingFrames: number;
  stillFrames: number;
  /** Orbiting frames with the adaptive budget, after the fixed-budget comparison. */
  adaptiveFrames?: number;
  budget: number;
  pointSizePx: number;
}

const canvas = document.getElementById('bench-canvas') as HTMLCanvasElement;
const renderer = new WebGLRenderer({ canvas, antialias: false, powerPreference: 'high-performance' });
renderer.setPixelRatio(1);
renderer.setSize(canvas.width, canvas.height, false);
// As in the app's Canvas (linear, flat): stored sRGB bytes reach the screen unchanged.
renderer.outputColorSpace = LinearSRGBColorSpace;
renderer.toneMapping = NoToneMapping;
const gl = renderer.getContext();
const pixel = new Uint8Array(4);
const camera = new PerspectiveCamera(50, canvas.width / canvas.height, 0.05, 100);
let cloud: SyntheticCloud | null = null;

function heapUsed(): number | null {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Orbit around the room's centre (OpenCV (0, 0, 5) = three.js (0, 0, −5)). */
function placeCamera(step: number): void {
  const angle = (step * 4 * Math.PI) / 180;
  camera.position.set(Math.sin(angle) * 7, 2.5, -5 + Math.cos(angle) * 7);
  camera.lookAt(0, 0, -5);
  camera.updateMatrixWorld();
}

function frame(scene: Scene): number {
  const start = performance.now();
  renderer.render(scene, camera);
  // A pixel read waits for the GPU: the time is the whole frame, not just the submission.
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
  return performance.now() - start;
}

/** Fraction of the canvas that is not background, and the mean colour there. */
function coverage(): { coverage: number; meanColor: [number, number, number] } {
  const { drawingBufferWidth: w, drawingBufferHeight: h } = gl;
  const pixels = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  let covered = 0;
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] + pixels[i + 1] + pixels[i + 2] === 0) continue;
    covered++;
    for (let c = 0; c < 3; c++) sum[c] += pixels[i + c];
  }
  const n = Math.max(1, covered);
  return { coverage: covered / (w * h), meanColor: [sum[0] / n, sum[1] / n, sum[2] / n] };
}

function sceneWith(object: Object3D): Scene {
  const scene = new Scene();
  const group = new Group();
  group.rotation.set(...THREE_FROM_OPENCV_EULER);
  group.add(object);
  scene.add(group);
  scene.updateMatrixWorld(true);
  return scene;
}

interface Contender {
  scene: Scene;
  drawn: () => number;
  run: FrameRun;
}

function contender(object: Object3D, drawn: () => number): Contender {
  const run: FrameRun = {
    firstFrameMs: 0,
    movingMs: [],
    stillMs: [],
    movingDrawn: 0,
    stillDrawn: 0,
    movingHeapGrowth: heapUsed() === null ? null : 0,
    cpuBytesKept: 0,
    coverage: 0,
    meanColor: [0, 0, 0],
  };
  return { scene: sceneWith(object), drawn, run };
}

/** One timed frame of a contender; its heap growth counted when `moving`. */
function timedFrame(contender: Contender, moving: boolean): number {
  const heapBefore = heapUsed();
  const ms = frame(contender.scene);
  const heapAfter = heapUsed();
  if (moving && heapBefore !== null && heapAfter !== null && contender.run.movingHeapGrowth !== null) {
    contender.run.movingHeapGrowth += heapAfter - heapBefore;
  }
  return ms;
}

/**
 * The same camera path for both, frame by frame in turn: on a shared machine
 * a burst of load then slows both alike instead of whichever ran at the time.
 */
async function interleavedFrames(contenders: Contender[], options: RunOptions): Promise<void> {
  placeCamera(0);
  for (const c of contenders) c.run.firstFrameMs = frame(c.scene);
  collectGarbage();
  for (let i = 1; i <= options.movingFrames; i++) {
    placeCamera(i);
    for (const c of contenders) {
      c.run.movingMs.push(timedFrame(c, true));
      c.run.movingDrawn = c.drawn();
    }
  }
  // Still: the camera stays where the last moving frame left it, past the settle time.
  await new Promise((done) => setTimeout(done, 300));
  for (let i = 0; i < options.stillFrames; i++) {
    for (const c of contenders) {
      c.run.stillMs.push(timedFrame(c, false));
      c.run.stillDrawn = c.drawn();
    }
  }
  for (const c of contenders) {
    frame(c.scene);
    ({ coverage: c.run.coverage, meanColor: c.run.meanColor } = coverage());
  }
}

const viewerBench = {
  webgl(): string {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info
      ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL))
      : String(gl.getParameter(gl.RENDERER));
  },

  prepare(count: number): number {
    cloud = null;
    collectGarbage();
    const start = performance.now();
    cloud = syntheticRoom(count);
    return performance.now() - start;
  },

  /** Plain THREE.Points + PointsMaterial against BudgetedPointCloud on the prepared cloud. */
  async compare(options: RunOptions): Promise<Comparison> {
    if (!cloud) throw new Error('prepare() first');
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(cloud.positions, 3));
    geometry.setAttribute('color', new BufferAttribute(cloud.colors, 3, true));
    geometry.computeBoundingSphere();
    const material = new PointsMaterial({
      size: options.pointSizePx,
      sizeAttenuation: false,
      vertexColors: true,
    });
    const count = cloud.count;
    const plain = contender(new Points(geometry, material), () => count);
    plain.run.cpuBytesKept = cloud.positions.byteLength + cloud.colors.byteLength;

    const buildStart = performance.now();
    const points = new BudgetedPointCloud(cloud, { budget: { initial: options.budget, adaptive: false } });
    const buildMs = performance.now() - buildStart;
    points.setPointSize(options.pointSizePx);
    const ours = contender(points, () => points.drawnCount);

    await interleavedFrames([plain, ours], options);
    // After the upload only the draw order and the visibility bytes stay on the CPU
    // (the source arrays are the app's own, held either way).
    ours.run.cpuBytesKept = points.order.blockStarts.byteLength;
    for (const attribute of Object.values(points.geometry.attributes)) {
      ours.run.cpuBytesKept += attribute.array.byteLength;
    }

    // The app's adaptive budget on the same cloud: frames back to back, so the
    // interval it measures between two frames is the whole previous frame.
    const adaptiveMs: number[] = [];
    const adaptiveDrawn: number[] = [];
    points.motion.setAdaptive(true);
    points.setBudget(DEFAULT_BUDGET.initial);
    for (let i = 0; i < (options.adaptiveFrames ?? 0); i++) {
      placeCamera(options.movingFrames + i + 1);
      adaptiveMs.push(frame(ours.scene));
      adaptiveDrawn.push(points.drawnCount);
    }
    points.motion.setAdaptive(false);
    points.setBudget(options.budget);
    // Back to the still view the mask figures below are taken from, drawn in full.
    placeCamera(options.movingFrames);
    points.markStill();

    let pickMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      pickPoint(points, camera, { x: 0, y: 0 }, 4, { width: canvas.width, height: canvas.height });
      pickMs = Math.min(pickMs, performance.now() - start);
    }
    const keep = new Uint8Array(count);
    for (let i = 0; i < count; i++) keep[i] = cloud.positions[3 * i] < 0 ? 1 : 0;
    const maskStart = performance.now();
    points.setMasks(keep, null);
    const maskMs = performance.now() - maskStart;
    const maskFrameMs = frame(ours.scene);
    const maskedCoverage = coverage().coverage;

    geometry.dispose();
    material.dispose();
    points.dispose();
    renderer.renderLists.dispose();
    return {
      plain: plain.run,
      budgeted: {
        ...ours.run,
        buildMs,
        pickMs,
        maskMs,
        maskFrameMs,
        maskedCoverage,
        adaptiveMs,
        adaptiveDrawn,
      },
    };
  },
  /**
   * Pixels in the highlight colour (of all pixels) with no masks, with the x < 0
   * half highlighted, and with that half highlighted and the rest hidden (tests).
   */
  async highlightFractions(): Promise<{
    none: number;
    half: number;
    onlyHighlighted: number;
    covered: number;
  }> {
    if (!cloud) throw new Error('prepare() first');
    const points = new BudgetedPointCloud(cloud);
    points.setPointSize(2);
    const scene = sceneWith(points);
    placeCamera(0);
    const highlighted = (): number => {
      frame(scene);
      const { drawingBufferWidth: w, drawingBufferHeight: h } = gl;
      const pixels = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] > 250 && pixels[i + 1] > 205 && pixels[i + 1] < 229 && pixels[i + 2] < 10) n++;
      }
      return n / (w * h);
    };
    const none = highlighted();
    const half = new Uint8Array(cloud.count);
    for (let i = 0; i < cloud.count; i++) half[i] = cloud.positions[3 * i] < 0 ? 1 : 0;
    points.setMasks(null, half);
    const halfFraction = highlighted();
    points.setMasks(half, half);
    const onlyHighlighted = highlighted();
    const covered = coverage().coverage;
    points.dispose();
    renderer.renderLists.dispose();
    return { none, half: halfFraction, onlyHighlighted, covered };
  },
};

(window as unknown as { viewerBench: typeof viewerBench }).viewerBench = viewerBench;
document.title = 'viewer-bench ready';
