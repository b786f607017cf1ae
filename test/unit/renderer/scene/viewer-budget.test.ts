// The moving point budget: how it adapts to frame time, and how the cloud
// switches between a thinned moving view and the full still view.

import { PerspectiveCamera, type BufferAttribute, type Scene, type WebGLRenderer } from 'three';
import { describe, expect, it } from 'vitest';
import { BudgetedPointCloud } from '../../../../renderer/src/scene/points/budgeted-point-cloud';
import {
  DEFAULT_BUDGET,
  drawCount,
  MovingBudget,
  nextBudget,
} from '../../../../renderer/src/scene/points/point-budget';

const options = { ...DEFAULT_BUDGET, initial: 1_000_000, min: 200_000, max: 4_000_000, targetFrameMs: 30 };

describe('nextBudget', () => {
  it('shrinks in proportion to a slow frame, at most halving', () => {
    expect(nextBudget(1_000_000, 60, options)).toBe(500_000);
    expect(nextBudget(1_000_000, 40, options)).toBe(750_000);
    expect(nextBudget(1_000_000, 600, options)).toBe(500_000);
  });

  it('grows by a quarter when fast, holds near the target', () => {
    expect(nextBudget(1_000_000, 10, options)).toBe(1_250_000);
    expect(nextBudget(1_000_000, 30, options)).toBe(1_000_000);
    expect(nextBudget(1_000_000, 33, options)).toBe(1_000_000);
  });

  it('stays within its bounds, and fixed when not adaptive', () => {
    expect(nextBudget(250_000, 1000, options)).toBe(200_000);
    expect(nextBudget(3_900_000, 1, options)).toBe(4_000_000);
    expect(nextBudget(1_000_000, 1000, { ...options, adaptive: false })).toBe(1_000_000);
    expect(nextBudget(1_000_000, Number.NaN, options)).toBe(1_000_000);
  });

  it('converges to a budget that meets the target when frame time is proportional to points', () => {
    let budget = 4_000_000;
    const msPerMillion = 20; // this "GPU" draws 1.5M points in 30 ms
    for (let frame = 0; frame < 30; frame++)
      budget = nextBudget(budget, (budget / 1e6) * msPerMillion, options);
    const frameMs = (budget / 1e6) * msPerMillion;
    expect(frameMs).toBeGreaterThan(options.targetFrameMs * 0.7);
    expect(frameMs).toBeLessThanOrEqual(options.targetFrameMs * 1.2);
  });
});

describe('drawCount', () => {
  it('draws everything when still, the budget when moving', () => {
    expect(drawCount(5_000_000, false, 1_000_000)).toBe(5_000_000);
    expect(drawCount(5_000_000, true, 1_000_000)).toBe(1_000_000);
    expect(drawCount(500_000, true, 1_000_000)).toBe(500_000);
  });
});

function cloudOf(count: number) {
  const positions = new Float32Array(count * 3).map((_, k) => (k % 97) / 10);
  const colors = new Uint8Array(count * 3).map((_, k) => k % 256);
  return new BudgetedPointCloud(
    { positions, colors, count },
    { budget: { initial: 1_000, adaptive: false }, settleMs: 40 },
  );
}

// onBeforeRender reads nothing from the renderer but its pixel ratio.
const renderer = { getPixelRatio: () => 2 } as unknown as WebGLRenderer;
const scene = null as unknown as Scene;

describe('BudgetedPointCloud', () => {
  it('draws the budget while the camera moves and everything once it has been still', async () => {
    const cloud = cloudOf(10_000);
    const camera = new PerspectiveCamera();
    let renderRequests = 0;
    cloud.setRenderRequest(() => renderRequests++);
    cloud.setPointSize(3);
    cloud.onBeforeRender(renderer, scene, camera);
    expect(cloud.drawnCount).toBe(10_000); // the first frame is a still view
    expect(cloud.material.uniforms.pointSize.value).toBe(6); // px × pixel ratio

    camera.position.x += 1;
    camera.updateMatrixWorld();
    cloud.onBeforeRender(renderer, scene, camera);
    expect(cloud.moving).toBe(true);
    expect(cloud.drawnCount).toBe(1_000);

    await new Promise((done) => setTimeout(done, 120));
    expect(renderRequests).toBe(1); // the full-detail frame is asked for
    cloud.onBeforeRender(renderer, scene, camera);
    expect(cloud.moving).toBe(false);
    expect(cloud.drawnCount).toBe(10_000);
    cloud.dispose();
  });

  it('changes only the 1-byte visibility attribute for masks, never the positions', () => {
    const cloud = cloudOf(2_000);
    const position = cloud.geometry.getAttribute('position') as BufferAttribute;
    const visibility = cloud.geometry.getAttribute('visibility') as BufferAttribute;
    const [positionVersion, visibilityVersion, visibilityArray] = [
      position.version,
      visibility.version,
      visibility.array,
    ];
    const keep = new Uint8Array(2_000).fill(1);
    keep[5] = 0;
    cloud.setMasks(keep, null);
    expect(visibility.version).toBe(visibilityVersion + 1);
    expect(visibility.array).toBe(visibilityArray); // written in place
    expect(position.version).toBe(positionVersion);
    const slotOf5 = Array.from({ length: 2_000 }, (_, slot) => cloud.order.originalIndex(slot)).indexOf(5);
    expect(visibility.array[slotOf5]).toBe(0);
    expect(cloud.keep).toBe(keep);
    cloud.setMasks(keep, null); // the same masks again: nothing to upload
    expect(visibility.version).toBe(visibilityVersion + 1);
    cloud.dispose();
  });
});

/**
 * A drag as the viewer sees it: a renderer whose frame costs `fixedMs` plus
 * `msPerMillion` per million drawn points, one moved frame after another.
 * Returns the frame times and the points drawn per frame.
 */
function drag(
  motion: MovingBudget,
  frames: number,
  cost: { fixedMs: number; msPerMillion: number },
  pointCount: number,
) {
  let now = 1_000;
  motion.frame(now, false, pointCount); // the still view the drag starts from
  const frameMs: number[] = [];
  const drawn: number[] = [];
  let ms = cost.fixedMs + (pointCount / 1e6) * cost.msPerMillion;
  for (let i = 0; i < frames; i++) {
    now += ms;
    const n = motion.frame(now, true, pointCount);
    drawn.push(n);
    ms = cost.fixedMs + (n / 1e6) * cost.msPerMillion;
    frameMs.push(ms);
  }
  return { frameMs, drawn, now };
}

describe('MovingBudget', () => {
  const software = { fixedMs: 8, msPerMillion: 300 }; // SwiftShader in the viewer benchmark: ~300 ms per 1M points

  it('brings a software renderer near 30 fps within a few frames of a drag, never below the floor', () => {
    const motion = new MovingBudget(DEFAULT_BUDGET, 150);
    const { frameMs, drawn } = drag(motion, 12, software, 5_700_000);
    expect(drawn[0]).toBe(DEFAULT_BUDGET.initial); // the first moving frame: the starting budget
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(DEFAULT_BUDGET.min);
    expect(DEFAULT_BUDGET.min).toBeLessThanOrEqual(100_000);
    const settled = frameMs.slice(6);
    for (const ms of settled) expect(ms).toBeLessThanOrEqual(DEFAULT_BUDGET.targetFrameMs * 1.25);
    expect(motion.moving).toBe(true); // 300 ms frames are still one movement
  });

  it('holds the floor when even the floor is slower than the target', () => {
    const motion = new MovingBudget(DEFAULT_BUDGET, 150);
    const { drawn } = drag(motion, 10, { fixedMs: 10, msPerMillion: 1_000 }, 2_000_000);
    expect(drawn.at(-1)).toBe(DEFAULT_BUDGET.min);
  });

  it('grows towards the whole cloud on a fast renderer, and stops at the cloud', () => {
    const motion = new MovingBudget(DEFAULT_BUDGET, 150);
    const fast = { fixedMs: 16.7, msPerMillion: 0.5 }; // vsync-bound: every frame one display interval
    const big = drag(motion, 20, fast, 20_000_000).drawn;
    expect(big.at(-1)).toBe(DEFAULT_BUDGET.max);
    const small = new MovingBudget(DEFAULT_BUDGET, 150);
    const { drawn } = drag(small, 20, fast, 300_000);
    expect(drawn.every((n) => n === 300_000)).toBe(true);
    expect(small.budget).toBe(DEFAULT_BUDGET.initial); // a cloud under the budget says nothing about it
  });

  it('counts a slow frame of one drag as moving, and draws the full cloud only after a still frame', () => {
    const motion = new MovingBudget({ ...DEFAULT_BUDGET, adaptive: false }, 150);
    const { now } = drag(motion, 3, { fixedMs: 600, msPerMillion: 0 }, 5_000_000);
    // Slower frames than the settle time: the view must stay still for two of them.
    expect(motion.settleDelay()).toBe(1_200);
    expect(motion.timeToSettle(now + 200)).toBe(1_000);
    expect(motion.frame(now + 600, true, 5_000_000)).toBe(DEFAULT_BUDGET.initial);
    expect(motion.frame(now + 700, false, 5_000_000)).toBe(DEFAULT_BUDGET.initial); // not still long enough
    expect(motion.frame(now + 600 + 1_200, false, 5_000_000)).toBe(5_000_000);
    expect(motion.moving).toBe(false);
  });

  it('does not take the pause before a new drag for a frame time', () => {
    const motion = new MovingBudget(DEFAULT_BUDGET, 150);
    const { now } = drag(motion, 10, { fixedMs: 20, msPerMillion: 0 }, 5_000_000);
    const before = motion.budget;
    motion.frame(now + 200, false, 5_000_000); // settled: the full cloud
    expect(motion.moving).toBe(false);
    motion.frame(now + 2_500, true, 5_000_000); // a new drag, 2.3 s later
    expect(motion.budget).toBe(before);
    expect(motion.lastFrameMs).toBe(20);
  });
});
