// runReconstruction as the engine worker calls it: encoded frames in, poses and
// point maps out; progress stages in order; cancellable; frame order matters.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineProgress, FrameInput } from '../../../../main/model/engine/engine-types';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import { releaseReconModels, runReconstruction } from '../../../../main/model/runtime/recon-pipeline';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'model-recon-'));
const modelDir = join(work, 'model');
const golden = new GoldenTensorReader(GOLDEN);
const names = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
const frames: FrameInput[] = names.map((name) => ({
  name,
  bytes: fs.readFileSync(join(GOLDEN, 'inputs/images', name)),
}));

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
});
afterAll(async () => {
  await releaseReconModels();
  await golden.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('runReconstruction', () => {
  it('reconstructs the golden frames: poses and world points match the official outputs', async () => {
    const progress: EngineProgress[] = [];
    const out = await runReconstruction({ modelDir, frames }, { onProgress: (p) => progress.push(p) });
    expect([out.frameCount, out.width, out.height]).toEqual([3, 518, 294]);
    expect(out.executionProvider).toBe('cpu');
    expect(out.precision).toBe('fp32');
    const poses = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_poses')).data;
    expect(compareAllclose(out.worldFromCamera, poses, 2e-4, 1e-4).pass).toBe(true);
    const points = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.points')).data;
    expect(compareAllclose(out.worldPoints, points, 2.2e-3, 2e-4).pass).toBe(true);
    const local = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.local_points')).data;
    expect(compareAllclose(out.localPoints, local, 2.3e-3, 2e-4).pass).toBe(true);
    expect(out.colors.length).toBe(3 * 518 * 294 * 3);
    // Stages in the documented order, progress monotone up to 1.
    const stages = [...new Set(progress.map((p) => p.stage))];
    expect(stages).toEqual(['preprocess', 'load', 'dino', 'geometry-prefill', 'decoders', 'heads']);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i].progress).toBeGreaterThanOrEqual(progress[i - 1].progress);
    expect(progress.at(-1)!.progress).toBe(1);
    for (const stage of ['preprocess', 'dino', 'geometry-prefill', 'decoders', 'heads'])
      expect(out.timingsMs[stage]).toBeGreaterThan(0);
  });

  it('uses the frames in the order given: frame 0 is the global reference (pitfall 15)', async () => {
    const forward = await runReconstruction({ modelDir, frames });
    const reversed = await runReconstruction({ modelDir, frames: [...frames].reverse() });
    // Frame 0 of the reversed run is the last frame of the forward run: its
    // global points differ because the global head's reference changed.
    const plane = 518 * 294 * 3;
    const lastForward = forward.globalPoints.subarray(2 * plane, 3 * plane);
    const firstReversed = reversed.globalPoints.subarray(0, plane);
    expect(compareAllclose(firstReversed, lastForward, 1e-3, 0).pass).toBe(false);
  });

  it('gives the same result when the decoders run one frame at a time (bounded memory)', async () => {
    const { ReconModel } = await import('../../../../main/model/runtime/recon-pipeline');
    const { decodeRgb } = await import('../../../../main/model/preprocess/dino-image');
    const model = await ReconModel.load(modelDir);
    const images = await Promise.all(frames.map((f) => decodeRgb(f.bytes, f.name)));
    const batched = await model.reconstruct(images);
    const single = await model.reconstruct(images, { decoderBatchFrames: 1 });
    await model.release();
    expect(compareAllclose(single.localPoints, batched.localPoints, 1e-4, 1e-5).pass).toBe(true);
    expect(compareAllclose(single.globalPoints, batched.globalPoints, 1e-5, 1e-5).pass).toBe(true);
    // The camera head sees a different GEMM batch: bit-level differences only.
    expect(compareAllclose(single.worldFromCamera, batched.worldFromCamera, 1e-5, 1e-5).pass).toBe(true);
  });

  it('stops between model runs when cancelled', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = runReconstruction(
      { modelDir, frames },
      {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.stage);
          if (p.stage === 'geometry-prefill') controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).not.toContain('decoders');
  });

  it('handles one frame, a portrait frame and a 518x518 frame (other grids, windows and position tables)', async () => {
    const sharp = (await import('sharp')).default;
    const image = async (width: number, height: number): Promise<FrameInput> => {
      const raw = new Uint8Array(width * height * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i % width) * 3) % 256;
      return {
        name: `${width}x${height}.png`,
        bytes: await sharp(raw, { raw: { width, height, channels: 3 } })
          .png()
          .toBuffer(),
      };
    };
    for (const [width, height, outH] of [
      [480, 640, 686],
      [300, 300, 518],
    ]) {
      const out = await runReconstruction({ modelDir, frames: [await image(width, height)] });
      expect([out.frameCount, out.width, out.height]).toEqual([1, 518, outH]);
      expect(out.localPoints.length).toBe(518 * outH * 3);
      expect(out.worldPoints.every(Number.isFinite)).toBe(true);
      // A proper rotation in the pose.
      const R = out.worldFromCamera;
      const det =
        R[0] * (R[5] * R[10] - R[6] * R[9]) -
        R[1] * (R[4] * R[10] - R[6] * R[8]) +
        R[2] * (R[4] * R[9] - R[5] * R[8]);
      expect(det).toBeCloseTo(1, 5);
    }
  });

  it('reports a missing model folder as a typed error', async () => {
    await expect(runReconstruction({ modelDir: join(work, 'nope'), frames })).rejects.toMatchObject({
      code: 'model-missing',
    });
  });
});
