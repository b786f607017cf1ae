// The studio core through its front-door interface (StudioService.call), on a
// real SQLite library and real ffmpeg.

import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPaths } from '../../../../main/common/api';
import type {
  JobInfo,
  ModelInfo,
  SceneDetail,
  SceneSummary,
  StudioEvent,
} from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { syntheticPoints, tempDir } from '../../../support/library-fixtures';
import { writeBinaryPly } from '../../../support/ply-fixture';
import { SHARED_DIR } from '../../../support/shared-dir';

const SAMPLES = join(SHARED_DIR, 'samples');
const WALK = join(SAMPLES, 'video', 'dl3dv-walk.mp4');
const PHOTOS = join(SAMPLES, 'arkitscenes');

const { dir, cleanup } = tempDir('g2-studio-');
let studio: Studio;
const events: StudioEvent[] = [];

beforeAll(async () => {
  studio = await createStudio({ libraryPath: join(dir, 'lib'), mode: 'cli' });
  studio.subscribe((event) => events.push(event));
});
afterAll(async () => {
  await studio.close();
  cleanup();
});

async function expectStudioError(promise: Promise<unknown>, code: string): Promise<StudioError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe(code);
    expect((error as StudioError).fix.length).toBeGreaterThan(0);
    return error as StudioError;
  }
  throw new Error(`expected a ${code} StudioError`);
}

async function runImport(input: unknown): Promise<JobInfo> {
  const { jobId } = (await studio.call('scenes.import', input)) as { jobId: string };
  return studio.waitForJob(jobId);
}

const list = async (): Promise<SceneSummary[]> => (await studio.call('scenes.list', {})) as SceneSummary[];

/** Everything in the library that a bad call could have touched. */
function libraryFingerprint(): string {
  const db = studio.library.db;
  return JSON.stringify(
    ['scenes', 'frames', 'scene_points', 'jobs', 'models', 'qa_entries'].map(
      (table) => db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number },
    ),
  );
}

describe('studio', () => {
  it('imports a folder of photos as a scene with frames and serves their images', async () => {
    const job = await runImport({ sources: [{ kind: 'path', path: PHOTOS }] });
    expect(job.status, job.message).toBe('succeeded');
    const sceneId = String(job.result?.sceneId);
    const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    expect(scene).toMatchObject({ name: 'arkitscenes', kind: 'photos', frameCount: 20, pointCount: 0 });
    expect(scene.frames.every((f) => f.width === 640 && f.height === 480)).toBe(true);
    expect(scene.frames[0].fileName).toBe('47333851_74735.839.jpg');
    expect(scene.source?.sha256).toMatch(/^[0-9a-f]{64}$/);

    const image = await studio.openBlob(blobPaths.frameImage(scene.frames[0].id));
    expect(image?.contentType).toBe('image/jpeg');
    expect((image?.body as Buffer).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const thumb = await studio.openBlob(blobPaths.frameThumb(scene.frames[0].id));
    expect(thumb?.bytes).toBeGreaterThan(100);
    expect(thumb!.bytes).toBeLessThan(image!.bytes);
    // No cloud yet: zero points, not an error.
    expect((await studio.openBlob(blobPaths.points(sceneId)))?.bytes).toBe(0);
    expect(await studio.openBlob('/blobs/frames/frm_nope/image')).toBeNull();
    expect(await studio.openBlob('/blobs/scenes/../../etc/passwd/points.f32')).toBeNull();

    // Job history and events tell what happened.
    const jobs = (await studio.call('jobs.list', { sceneId })) as JobInfo[];
    expect(jobs[0]).toMatchObject({ id: job.id, kind: 'import', status: 'succeeded' });
    expect(events.some((e) => e.type === 'scenes-changed')).toBe(true);
    expect(events.filter((e) => e.type === 'job' && e.job.id === job.id).at(-1)).toMatchObject({
      job: { status: 'succeeded', progress: 1 },
    });
  });

  it('selects --frames photos spread over the sequence, keeping all of them', async () => {
    const job = await runImport({
      sources: [{ kind: 'path', path: PHOTOS }],
      frames: 5,
      name: 'Five of twenty',
    });
    expect(job.status, job.message).toBe('succeeded');
    const scene = (await studio.call('scenes.get', { sceneId: job.result?.sceneId })) as SceneDetail;
    expect(scene.frames).toHaveLength(20);
    const picked = scene.frames.filter((f) => f.selected).map((f) => f.index);
    expect(picked).toHaveLength(5);
    // One from each quarter-ish group of four photos.
    picked.forEach((index, group) => expect(Math.floor(index / 4)).toBe(group));
    expect(await studio.call('scenes.delete', { sceneId: scene.id })).toEqual({ deleted: true });
  });

  it('imports a video with real ffmpeg: frames as displayed, source facts', async () => {
    const job = await runImport({ sources: [{ kind: 'path', path: WALK }], frames: 6, name: 'Walk' });
    expect(job.status, job.message).toBe('succeeded');
    const scene = (await studio.call('scenes.get', { sceneId: job.result?.sceneId })) as SceneDetail;
    expect(scene).toMatchObject({ name: 'Walk', kind: 'video' });
    // Ingest keeps the candidate frames it decoded; the requested number are selected.
    expect(scene.frames.filter((f) => f.selected)).toHaveLength(6);
    expect(scene.frameCount).toBe(scene.frames.length);
    expect(scene.source).toMatchObject({
      fileName: 'dl3dv-walk.mp4',
      codec: 'h264',
      width: 960,
      height: 540,
      hasAudio: true,
    });
    expect(scene.frames.every((f) => f.width === 960 && f.height === 540 && f.timestampS !== null)).toBe(
      true,
    );
  });

  it('imports an uploaded file by its upload id and removes the upload afterwards', async () => {
    const { uploadId } = await studio.saveUpload('my walk.mp4', createReadStream(WALK));
    const job = await runImport({ sources: [{ kind: 'upload', uploadId }], frames: 4 });
    expect(job.status, job.message).toBe('succeeded');
    const scene = (await studio.call('scenes.get', { sceneId: job.result?.sceneId })) as SceneDetail;
    expect(scene.name).toBe('my walk');
    expect(scene.source?.fileName).toBe('my walk.mp4');
    await expectStudioError(runImport({ sources: [{ kind: 'upload', uploadId }] }), 'not-found');
  });

  it('imports a colourless PLY and serves its points, with grey colours', async () => {
    const cloud = syntheticPoints(500, false);
    const ply = join(dir, 'grey.ply');
    writeBinaryPly(ply, cloud.positions, null);
    const job = await runImport({ sources: [{ kind: 'path', path: ply }] });
    expect(job.status, job.message).toBe('succeeded');
    const sceneId = String(job.result?.sceneId);
    const points = await studio.openBlob(blobPaths.points(sceneId));
    expect(points?.bytes).toBe(500 * 12);
    expect((points?.body as Buffer).equals(Buffer.from(cloud.positions.buffer))).toBe(true);
    const colors = await studio.openBlob(blobPaths.colors(sceneId));
    expect(colors?.bytes).toBe(500 * 3);
    expect(new Set(colors?.body as Buffer)).toEqual(new Set([160]));
    const scene = (await studio.call('scenes.get', { sceneId })) as SceneDetail;
    expect(scene).toMatchObject({ kind: 'pointcloud', pointCount: 500, frameCount: 0, hasCameras: false });
    expect(scene.bounds?.max[2]).toBeCloseTo(Math.fround(499 / 64 / 10), 5);
    await studio.call('scenes.delete', { sceneId });
  });

  it('rejects bad inputs with invalid-input and a readable message, leaving the library unchanged', async () => {
    const before = libraryFingerprint();
    const scenes = await list();
    const sceneId = scenes[0].id;
    const bad: Array<[string, unknown, RegExp]> = [
      ['scenes.rename', { sceneId, name: '   ' }, /name/],
      ['scenes.rename', { sceneId, name: 'ok', extra: 1 }, /extra/],
      ['scenes.get', { sceneId: '../etc' }, /sceneId/],
      ['scenes.import', { sources: [] }, /sources/],
      ['scenes.import', { sources: [{ kind: 'path', path: WALK }], frames: 1 }, /frames/],
      ['scenes.import', { sources: [{ kind: 'ftp', path: WALK }] }, /sources/],
      ['scenes.export', { sceneId, format: 'obj' }, /format/],
      [
        'qa.ask',
        { sceneId, question: 'where?', markers: [{ color: 'pink', frameIndex: 0, x: 1, y: 1 }] },
        /color/,
      ],
      ['scenes.list', null, /./],
      ['scenes.list', 'everything', /input/],
    ];
    for (const [name, input, pattern] of bad) {
      const error = await expectStudioError(
        studio.call(name, name === 'scenes.list' && input === null ? 'x' : input),
        'invalid-input',
      );
      expect(error.message).toMatch(pattern);
      expect(error.message).not.toMatch(/\n\s+at /);
    }
    await expectStudioError(studio.call('scenes.explode', {}), 'not-found');
    await expectStudioError(studio.call('scenes.rename', { sceneId: 'scn_missing', name: 'x' }), 'not-found');
    await expectStudioError(
      studio.call('scenes.import', { sources: [{ kind: 'path', path: join(dir, 'nope.mp4') }] }),
      'unreadable-path',
    );
    expect(libraryFingerprint()).toBe(before);
    expect(await list()).toEqual(scenes);
  });

  it('fails imports of an empty file, a text file named .mp4 and a folder without photos, adding no scene', async () => {
    const scenes = await list();
    const empty = join(dir, 'empty.mp4');
    const text = join(dir, 'notes.mp4');
    writeFileSync(empty, '');
    writeFileSync(text, 'this is not a video\n'.repeat(100));
    const emptyJob = await runImport({ sources: [{ kind: 'path', path: empty }] });
    expect(emptyJob).toMatchObject({ status: 'failed', error: { code: 'empty-file' } });
    const textJob = await runImport({ sources: [{ kind: 'path', path: text }] });
    expect(textJob).toMatchObject({ status: 'failed', error: { code: 'unsupported-file' } });
    expect(textJob.message).toMatch(/notes\.mp4/);
    // A folder with no photos in it.
    const emptyFolder = join(dir, 'no-photos');
    mkdirSync(emptyFolder, { recursive: true });
    writeFileSync(join(emptyFolder, 'readme.txt'), 'hello');
    expect(await runImport({ sources: [{ kind: 'path', path: emptyFolder }] })).toMatchObject({
      status: 'failed',
      error: { code: 'unsupported-file' },
    });
    expect(await list()).toEqual(scenes);
  });

  it('cancels an import mid-way and stores nothing', async () => {
    const scenes = await list();
    const { jobId } = (await studio.call('scenes.import', {
      sources: [{ kind: 'path', path: WALK }],
      frames: 20,
    })) as {
      jobId: string;
    };
    // Wait until ingest is really running, then cancel.
    await new Promise<void>((resolve) => {
      const off = studio.subscribe((e) => {
        if (e.type === 'job' && e.job.id === jobId && e.job.status === 'running' && e.job.progress > 0) {
          off();
          resolve();
        }
      });
    });
    const cancelling = (await studio.call('jobs.cancel', { jobId })) as JobInfo;
    expect(['running', 'cancelled']).toContain(cancelling.status);
    const final = await studio.waitForJob(jobId);
    expect(final.status).toBe('cancelled');
    expect(await list()).toEqual(scenes);
  });

  it('renames and deletes scenes', async () => {
    const [first] = await list();
    const renamed = (await studio.call('scenes.rename', {
      sceneId: first.id,
      name: '  Living room  ',
    })) as SceneSummary;
    expect(renamed.name).toBe('Living room');
    expect(await studio.call('scenes.delete', { sceneId: first.id })).toEqual({ deleted: true });
    expect((await list()).map((s) => s.id)).not.toContain(first.id);
    await expectStudioError(studio.call('scenes.get', { sceneId: first.id }), 'not-found');
    // Its frames' blobs are gone too.
    expect(await studio.openBlob(blobPaths.points(first.id))).toBeNull();
  });

  it('registers a converted model folder only when it has a manifest', async () => {
    const noManifest = join(dir, 'not-a-model');
    mkdirSync(noManifest, { recursive: true });
    await expectStudioError(studio.call('models.register', { path: noManifest }), 'model-missing');
    await expectStudioError(studio.call('models.register', { path: join(dir, 'absent') }), 'unreadable-path');
    const broken = join(dir, 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'manifest.json'), '{ not json');
    await expectStudioError(studio.call('models.register', { path: broken }), 'model-corrupt');
    expect(await studio.call('models.list', {})).toEqual([]);

    const modelDir = join(dir, 'g2vlm-tiny');
    mkdirSync(modelDir, { recursive: true });
    // A reconstruction-only model folder in the converter's manifest format (main/model/runtime/model-manifest.ts).
    const graphs: Record<string, { file: string }> = {};
    for (const id of ['dino', 'embed_tokens', 'llm_causal', 'llm_block', 'camera_decoder', 'point_decoder']) {
      graphs[id] = { file: `${id}.onnx` };
      writeFileSync(join(modelDir, `${id}.onnx`), 'x');
    }
    writeFileSync(join(modelDir, 'weights.bin'), 'x');
    const manifest = {
      format_version: 1,
      id: 'g2vlm-tiny',
      name: 'G2VLM tiny',
      dtype: 'fp32',
      configs: {},
      graphs,
      weightsFile: 'weights.bin',
    };
    writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(manifest));
    // A graph file gone missing is a corrupt model, not a crash later.
    const incomplete = join(dir, 'incomplete-model');
    mkdirSync(incomplete, { recursive: true });
    writeFileSync(join(incomplete, 'manifest.json'), JSON.stringify(manifest));
    await expectStudioError(studio.call('models.register', { path: incomplete }), 'model-corrupt');
    const model = (await studio.call('models.register', { path: modelDir })) as ModelInfo;
    expect(model).toMatchObject({
      id: 'g2vlm-tiny',
      name: 'G2VLM tiny',
      active: true,
      capabilities: { reconstruct: true, chat: false },
    });
    expect(((await studio.call('models.list', {})) as ModelInfo[]).map((m) => m.id)).toEqual(['g2vlm-tiny']);
    // Asking needs a chat-capable model: refused before any job runs.
    const [scene] = await list();
    const { jobId } = (await studio.call('qa.ask', {
      sceneId: scene.id,
      question: 'How far is the door?',
    })) as { jobId: string };
    expect(await studio.waitForJob(jobId)).toMatchObject({
      status: 'failed',
      error: { code: 'model-missing' },
    });
  });

  it('reports app info: version, library, ffmpeg, execution providers', async () => {
    const info = (await studio.call('app.info', {})) as {
      version: string;
      libraryPath: string;
      ffmpeg: { version: string } | null;
      executionProviders: string[];
      mode: string;
    };
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.libraryPath).toBe(join(dir, 'lib'));
    expect(info.ffmpeg?.version).toBeTruthy();
    expect(info.executionProviders).toContain('cpu');
    expect(info.mode).toBe('cli');
  });
});
