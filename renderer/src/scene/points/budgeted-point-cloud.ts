// A point cloud for millions of points: positions and colours go to the GPU
// once, in a shuffled order (see draw-order.ts); while the camera moves only a
// budget of them is drawn, and the full cloud as soon as it is still again.
// Masks (kept / highlighted points) change a 1-byte attribute, never the
// positions. Nothing in the render path allocates.

import {
  Box3,
  BufferAttribute,
  BufferGeometry,
  Sphere,
  StaticDrawUsage,
  DynamicDrawUsage,
  Points,
  type Camera,
  type ColorRepresentation,
  type RawShaderMaterial,
  type Scene,
  type WebGLRenderer,
} from 'three';
import { DrawOrder } from './draw-order';
import { DEFAULT_BUDGET, MovingBudget, type BudgetOptions } from './point-budget';
import { createPointMaterial, type PointUniforms } from './point-material';

export interface PointSource {
  /** xyz per point, original order, in stored (OpenCV) coordinates. */
  positions: Float32Array;
  /** rgb bytes per point, or null for a plain white cloud. */
  colors: Uint8Array | null;
  count: number;
  /** Bounds of the points when already known (saves a pass over them). */
  boundingSphere?: Sphere | null;
}

export interface BudgetedPointCloudOptions {
  budget?: Partial<BudgetOptions>;
  /** A still camera for this long ends the moving state, ms. */
  settleMs?: number;
  /** Draw-order seed (tests). */
  seed?: number;
  /** Consecutive stored points shuffled as one run (see draw-order.ts); 1 shuffles single points. */
  blockSize?: number;
}

function releaseArrayAfterUpload(this: BufferAttribute): void {
  // The GPU has the data; the CPU copy in draw order is only ever needed again
  // for a lost context, which the viewer does not restore.
  this.array = new (this.array.constructor as Float32ArrayConstructor)(0);
}

export class BudgetedPointCloud extends Points<
  BufferGeometry,
  RawShaderMaterial & { uniforms: PointUniforms }
> {
  /** The source positions, original order (picking and selections read these). */
  readonly sourcePositions: Float32Array;
  readonly pointCount: number;
  /** Where each stored point sits in the GPU buffers. */
  readonly order: DrawOrder;
  readonly budgetOptions: BudgetOptions;
  readonly settleMs: number;
  /** Moving or still, and the moving budget adapted to the measured frame interval. */
  readonly motion: MovingBudget;
  private requestRender: (() => void) | null = null;

  private visibilityAttribute: BufferAttribute;
  private keepMask: Uint8Array | null = null;
  private highlightMask: Uint8Array | null = null;
  private pointSizePx = 3;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private hasRendered = false;
  // The camera's matrices as last drawn, to tell a moving view from a still one without allocating.
  private readonly lastView = new Float64Array(32);

  constructor(source: PointSource, options: BudgetedPointCloudOptions = {}) {
    const { positions, colors, count } = source;
    if (positions.length < count * 3) throw new RangeError(`${count} points need ${count * 3} coordinates`);
    const order = new DrawOrder(count, { seed: options.seed ?? 1, blockSize: options.blockSize });
    const geometry = new BufferGeometry();
    const position = new BufferAttribute(order.gather(positions, 3, new Float32Array(count * 3)), 3).setUsage(
      StaticDrawUsage,
    );
    position.onUpload(releaseArrayAfterUpload);
    geometry.setAttribute('position', position);
    const hasColor = colors !== null && colors.length >= count * 3;
    if (hasColor) {
      const color = new BufferAttribute(order.gather(colors, 3, new Uint8Array(count * 3)), 3, true);
      color.setUsage(StaticDrawUsage).onUpload(releaseArrayAfterUpload);
      geometry.setAttribute('color', color);
    }
    const visibility = new BufferAttribute(order.writeVisibility(null, null, new Uint8Array(count)), 1, true);
    visibility.setUsage(DynamicDrawUsage);
    geometry.setAttribute('visibility', visibility);
    // Bounds from the source: the draw-order copy is released once uploaded.
    geometry.boundingSphere =
      source.boundingSphere?.clone() ??
      new Box3()
        .setFromBufferAttribute(new BufferAttribute(positions.subarray(0, count * 3), 3))
        .getBoundingSphere(new Sphere());
    super(geometry, createPointMaterial(hasColor));
    this.sourcePositions = positions;
    this.pointCount = count;
    this.order = order;
    this.visibilityAttribute = visibility;
    this.budgetOptions = { ...DEFAULT_BUDGET, ...options.budget };
    this.settleMs = options.settleMs ?? 150;
    this.motion = new MovingBudget(this.budgetOptions, this.settleMs);
    this.frustumCulled = false;
  }

  /** Build from a geometry with `position` (and optionally normalized uint8 `color`) attributes. */
  static fromGeometry(geometry: BufferGeometry, options?: BudgetedPointCloudOptions): BudgetedPointCloud {
    const position = geometry.getAttribute('position');
    const color = geometry.getAttribute('color');
    return new BudgetedPointCloud(
      {
        positions: position.array as Float32Array,
        colors: color && color.array instanceof Uint8Array ? color.array : null,
        count: position.count,
        boundingSphere: geometry.boundingSphere,
      },
      options,
    );
  }

  get keep(): Uint8Array | null {
    return this.keepMask;
  }
  get highlight(): Uint8Array | null {
    return this.highlightMask;
  }
  get moving(): boolean {
    return this.motion.moving;
  }
  get currentBudget(): number {
    return this.motion.budget;
  }
  /** Points the last frame drew (hidden ones included: they are discarded in the shader). */
  get drawnCount(): number {
    return this.geometry.drawRange.count === Infinity ? this.pointCount : this.geometry.drawRange.count;
  }

  /**
   * Which points show (`keep`, original order, 1 = shown) and which are drawn
   * in the highlight colour. Uploads the 1-byte visibility attribute only.
   */
  setMasks(keep: Uint8Array | null, highlight: Uint8Array | null): void {
    if (keep === this.keepMask && highlight === this.highlightMask) return;
    this.order.writeVisibility(keep, highlight, this.visibilityAttribute.array as Uint8Array);
    this.keepMask = keep;
    this.highlightMask = highlight;
    this.visibilityAttribute.needsUpdate = true;
  }

  /** Called when the view stopped moving and a full-detail frame is due (R3F: invalidate). */
  setRenderRequest(request: (() => void) | null): void {
    this.requestRender = request;
  }

  setPointSize(px: number): void {
    this.pointSizePx = px;
  }

  setHighlightColor(color: ColorRepresentation): void {
    this.material.uniforms.highlightColor.value.set(color);
  }

  /** A fixed moving budget (adaptive budgets restart from it). */
  setBudget(points: number): void {
    this.motion.setBudget(points);
  }

  /** Forget the last view: the next frame counts as still (e.g. after a programmatic jump). */
  markStill(): void {
    this.hasRendered = false;
    this.motion.reset();
  }

  override onBeforeRender(renderer: WebGLRenderer, _scene: Scene, camera: Camera): void {
    const now = performance.now();
    const moved = this.viewChanged(camera) && this.hasRendered;
    this.hasRendered = true;
    this.geometry.setDrawRange(0, this.motion.frame(now, moved, this.pointCount));
    if (this.motion.moving) this.armSettleTimer(now);
    this.material.uniforms.pointSize.value = this.pointSizePx * renderer.getPixelRatio();
  }

  /**
   * Not raycastable: three.js would walk the draw-order copy, which is released
   * once uploaded, and ignore the masks. Picking is pickPoint (point-picking.ts).
   */
  override raycast(): void {}

  override dispose(): void {
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    this.requestRender = null;
    this.geometry.dispose();
    this.material.dispose();
  }

  private viewChanged(camera: Camera): boolean {
    const last = this.lastView;
    const view = camera.matrixWorld.elements;
    const projection = camera.projectionMatrix.elements;
    let changed = false;
    for (let i = 0; i < 16; i++) {
      if (last[i] !== view[i]) changed = true;
      last[i] = view[i];
      if (last[16 + i] !== projection[i]) changed = true;
      last[16 + i] = projection[i];
    }
    return changed;
  }

  /**
   * Ask for a frame once the view may have settled; that frame decides (a
   * still camera draws the full cloud). During a slow drag the request just
   * joins the frame the controls already asked for.
   */
  private armSettleTimer(now: number): void {
    if (this.settleTimer !== null) return;
    this.settleTimer = setTimeout(this.onSettleCheck, this.motion.timeToSettle(now));
  }

  private onSettleCheck = (): void => {
    this.settleTimer = null;
    const wait = this.motion.timeToSettle(performance.now());
    if (wait > 0) {
      this.settleTimer = setTimeout(this.onSettleCheck, wait);
      return;
    }
    if (this.motion.moving) this.requestRender?.();
  };
}
