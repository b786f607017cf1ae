// The model manager through the studio's API (models.download / import /
// remove / use / runtime), downloading from a real HTTP hub on 127.0.0.1
// (test/support/hub-server.ts) that serves the golden tiny checkpoint, and
// converting with the real converter into a real library.

import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  PrecisionAdvice,
  JobInfo,
  ModelInfo,
  ModelRemoval,
  ModelRuntimeInfo,
  StudioEvent,
} from '../../../../main/common/domain';
import { StudioError } from '../../../../main/common/errors';
import { createStudio, type Studio } from '../../../../main/core/studio';
import { checkpointFolderName } from '../../../../main/core/model-library/install-model';
import { generateRandomCheckpoint } from '../../../../main/model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { DOWNLOAD_RECORD_FILE } from '../../../../main/model/download/checkpoint-download';
import { qwen2TokenizerFiles, startFakeHub, sha256, type FakeHub } from '../../../support/hub-server';
import { tempDir } from '../../../support/library-fixtures';
import { writeBinaryPly } from '../../../support/ply-fixture';

const { dir, cleanup } = tempDir('g2-model-manager-');
const libraryDir = join(dir, 'library');
const modelsDir = join(libraryDir, 'models');
const checkpointsDir = join(libraryDir, 'checkpoints');
let hub: FakeHub;
let studio: Studio;
let savedEndpoint: string | undefined;
const events: JobInfo[] = [];

beforeAll(async () => {
  hub = await startFakeHub();
  savedEndpoint = process.env.HF_ENDPOINT;
  process.env.HF_ENDPOINT = hub.url;
  studio = await createStudio({ libraryPath: libraryDir, mode: 'cli', executionProvider: 'cpu' });
  studio.subscribe((event: StudioEvent) => {
    if (event.type === 'job') events.push(event.job);
  });
});
afterAll(async () => {
  await studio?.close();
  await hub?.close();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  cleanup();
});

async function start(name: string, input: unknown): Promise<string> {
  const { jobId } = (await studio.call(name, input)) as { jobId: string };
  return jobId;
}
const runJob = async (name: string, input: unknown): Promise<JobInfo> =>
  studio.waitForJob(await start(name, input));
const listModels = async (): Promise<ModelInfo[]> => (await studio.call('models.list', {})) as ModelInfo[];
const cdnRequests = () => hub.log.filter((r) => r.path.startsWith('/cdn/'));
const fileRequests = () => hub.log.filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'));
/** Bytes of the files a download fetches before the weights (all but the weights and the README). */
const otherBytes = () =>
  hub.files
    .filter((f) => f.path !== 'model.safetensors' && f.path !== 'README.md')
    .reduce((sum, f) => sum + f.content.length, 0);
const weights = () => hub.files.find((f) => f.path === 'model.safetensors')!;
/** Temporary folders the converter or the manager might leave behind. */
const leftovers = () => readdirSync(modelsDir).filter((n) => n.startsWith('.'));

async function expectCallError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(promise).rejects.toSatisfy(
    (e: unknown) => e instanceof StudioError && e.code === code && message.test(e.message) && e.fix !== '',
  );
}

let firstModel: ModelInfo;

describe('models.download from a hub on 127.0.0.1', () => {
  it('resumes an interrupted transfer, verifies, converts into the library, registers and activates', async () => {
    hub.reset();
    hub.behaviour.dropOnce.add('model.safetensors');
    events.length = 0;
    const job = await runJob('models.download', { repoId: hub.repo });
    expect(job.status, job.message).toBe('succeeded');
    expect(job.kind).toBe('download');

    // The cut transfer went on with a range request from where it stopped.
    const resumed = cdnRequests().filter((r) => r.range !== null);
    expect(resumed).toHaveLength(1);
    const from = Number(/bytes=(\d+)-/.exec(resumed[0].range!)![1]);
    expect(from).toBeGreaterThan(weights().content.length * 0.3);
    expect(from).toBeLessThan(weights().content.length);

    // Stages in order, with a byte count while downloading.
    const mine = events.filter((e) => e.id === job.id);
    const stages = [...new Set(mine.map((e) => e.stage))];
    expect(stages.filter((s) => ['download', 'verify', 'convert'].includes(s))).toEqual([
      'download',
      'verify',
      'convert',
    ]);
    expect(
      mine.some((e) => /^Downloading model\.safetensors: [\d.]+ \w+ of [\d.]+ MiB$/.test(e.message)),
    ).toBe(true);
    const progress = mine.filter((e) => e.status === 'running').map((e) => e.progress);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);

    const models = await listModels();
    expect(models).toHaveLength(1);
    firstModel = models[0];
    expect(firstModel).toMatchObject({
      id: job.result?.modelId,
      name: 'tiny-g2',
      precision: 'fp32',
      active: true,
      capabilities: { reconstruct: true, chat: true },
      path: join(modelsDir, String(job.result?.modelId)),
    });
    expect(job.result).toMatchObject({ repoId: hub.repo, revision: 'main', commit: hub.commit });
    expect(existsSync(join(firstModel.path, 'manifest.json'))).toBe(true);
    // The converted model carries the tokenizer (chat) and the checkpoint is gone (no double disk use).
    expect(existsSync(join(firstModel.path, 'vocab.json'))).toBe(true);
    expect(readdirSync(checkpointsDir)).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('rejects a corrupted file with a model-corrupt error; nothing is registered or left in models/', async () => {
    hub.reset();
    hub.behaviour.corrupt.add('model.safetensors');
    const job = await runJob('models.download', { repoId: hub.repo, revision: 'corrupt-test' });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'model-corrupt' });
    expect(job.error?.message).toMatch(/model\.safetensors arrived corrupted/);
    expect(job.error?.fix).toMatch(/again/);
    expect(await listModels()).toEqual([firstModel]);
    expect(readdirSync(modelsDir)).toEqual([firstModel.id]);
    // The damaged file was deleted; the verified small files stay for the next attempt.
    const staging = join(checkpointsDir, `${checkpointFolderName(hub.repo, 'corrupt-test')}.download`);
    expect(readdirSync(staging).filter((n) => n.startsWith('model.safetensors'))).toEqual([]);
    expect(readdirSync(staging)).toContain('text_config.json');
  });

  it('cancel during the download keeps the partial file; the next download resumes from its last byte', async () => {
    hub.reset();
    // Slow enough to cancel mid-file: ~5 s for the tiny checkpoint.
    hub.behaviour.bytesPerSecond = 4 * 2 ** 20;
    const jobId = await start('models.download', { repoId: hub.repo, precision: 'fp16' });
    await new Promise<void>((resolve) => {
      const stop = studio.subscribe((event) => {
        if (event.type !== 'job' || event.job.id !== jobId) return;
        // The byte count covers every file; the weights come last, after the small ones.
        const bytes = /^Downloading model\.safetensors: ([\d.]+) MiB/.exec(event.job.message);
        if (bytes && Number(bytes[1]) * 2 ** 20 > otherBytes() + 2 * 2 ** 20) {
          stop();
          resolve();
        }
      });
    });
    // A second download of the same repository and revision is refused while this one runs.
    await expectCallError(
      studio.call('models.download', { repoId: hub.repo }),
      'busy',
      /already being downloaded/,
    );
    await studio.call('jobs.cancel', { jobId });
    const cancelled = await studio.waitForJob(jobId);
    expect(cancelled.status).toBe('cancelled');
    const part = join(
      checkpointsDir,
      `${checkpointFolderName(hub.repo, 'main')}.download`,
      'model.safetensors.part',
    );
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(2 * 2 ** 20);
    expect(kept).toBeLessThan(weights().content.length);

    hub.reset();
    const job = await runJob('models.download', { repoId: hub.repo, precision: 'fp16' });
    expect(job.status, job.message).toBe('succeeded');
    expect(cdnRequests()).toEqual([
      { method: 'GET', path: `/cdn/${sha256(weights().content)}`, range: `bytes=${kept}-` },
    ]);
    // Only the weights were still missing: the small files verified before the cancel were kept.
    expect(fileRequests()).toHaveLength(2); // the resolve redirect and the CDN range request
    expect(job.result).toMatchObject({ precision: 'fp16', resumedFromBytes: kept });
    const models = await listModels();
    expect(models.find((m) => m.active)?.id).toBe(job.result?.modelId);
    expect(models.find((m) => m.id === job.result?.modelId)?.precision).toBe('fp16');
    expect(leftovers()).toEqual([]);
  });

  it('cancel during conversion leaves no half-written model; the next job converts the kept download', async () => {
    hub.reset();
    const revision = 'convert-cancel';
    const jobId = await start('models.download', { repoId: hub.repo, revision });
    const stop = studio.subscribe((event) => {
      if (event.type === 'job' && event.job.id === jobId && event.job.stage === 'convert') {
        stop();
        void studio.call('jobs.cancel', { jobId });
      }
    });
    const cancelled = await studio.waitForJob(jobId);
    expect(cancelled.status).toBe('cancelled');
    expect(leftovers()).toEqual([]);
    expect((await listModels()).map((m) => m.name)).not.toContain(`tiny-g2@${revision}`);
    const checkpoint = join(checkpointsDir, checkpointFolderName(hub.repo, revision));
    expect(existsSync(join(checkpoint, DOWNLOAD_RECORD_FILE))).toBe(true);

    hub.reset();
    const job = await runJob('models.download', { repoId: hub.repo, revision });
    expect(job.status, job.message).toBe('succeeded');
    expect(job.result).toMatchObject({ reusedDownload: true, downloadedBytes: 0 });
    expect(hub.log).toEqual([]);
    expect(existsSync(checkpoint)).toBe(false);
    // Same weights, same precision as the first download: the same model id, its folder replaced.
    expect(job.result?.modelId).toBe(firstModel.id);
    const model = (await listModels()).find((m) => m.id === firstModel.id)!;
    expect(model).toMatchObject({ name: `tiny-g2@${revision}`, active: true });
    expect(existsSync(join(model.path, 'weights.bin'))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('refuses up front when the disk cannot hold the download and the conversion', async () => {
    hub.reset();
    hub.behaviour.listedSize.set('model.safetensors', 2 ** 50);
    const before = await listModels();
    const job = await runJob('models.download', { repoId: hub.repo, revision: 'too-big' });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'disk-full' });
    expect(job.error?.message).toMatch(/Not enough disk space: downloading and converting the model needs/);
    expect(job.error?.fix).toMatch(/Free at least/);
    expect(fileRequests()).toEqual([]);
    expect(existsSync(join(checkpointsDir, `${checkpointFolderName(hub.repo, 'too-big')}.download`))).toBe(
      false,
    );
    expect(await listModels()).toEqual(before);
  });

  it('refuses an id that is not a repository, and an unknown repository fails the job with not-found', async () => {
    await expectCallError(
      studio.call('models.download', { repoId: 'no slash here' }),
      'invalid-input',
      /repository id/,
    );
    const job = await runJob('models.download', { repoId: 'acme/none' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('not-found');
  });
});

describe('models.import, use, remove', () => {
  let imported: ModelInfo;

  it('converts a local checkpoint folder into the library and registers it without taking over the active model', async () => {
    const checkpoint = join(dir, 'my-checkpoint');
    await generateRandomCheckpoint(checkpoint, 'tiny', { seed: 11, dtype: 'BF16' });
    const activeBefore = (await listModels()).find((m) => m.active)!;
    events.length = 0;
    const job = await runJob('models.import', { path: checkpoint, precision: 'fp16' });
    expect(job.status, job.message).toBe('succeeded');
    expect(job.kind).toBe('convert');
    expect([...new Set(events.filter((e) => e.id === job.id).map((e) => e.stage))]).toEqual(
      expect.arrayContaining(['verify', 'convert']),
    );
    imported = (await listModels()).find((m) => m.id === job.result?.modelId)!;
    expect(imported).toMatchObject({
      name: 'my-checkpoint',
      precision: 'fp16',
      active: false,
      path: join(modelsDir, imported.id),
    });
    expect(existsSync(join(imported.path, 'manifest.json'))).toBe(true);
    expect((await listModels()).find((m) => m.active)?.id).toBe(activeBefore.id);
    // The user's folder is theirs: untouched.
    expect(existsSync(join(checkpoint, 'model.safetensors'))).toBe(true);
  });

  it('says a checkpoint without a tokenizer can only reconstruct; a tokenizer attached at import gives chat', async () => {
    expect(imported.capabilities).toEqual({ reconstruct: true, chat: false });
    const withTokenizer = join(dir, 'tokenizer-files');
    mkdirSync(withTokenizer, { recursive: true });
    const { vocab, merges } = qwen2TokenizerFiles();
    writeFileSync(join(withTokenizer, 'vocab.json'), vocab);
    writeFileSync(join(withTokenizer, 'merges.txt'), merges);
    const job = await runJob('models.import', {
      path: join(dir, 'my-checkpoint'),
      precision: 'fp16',
      tokenizer: withTokenizer,
      replace: true,
    });
    expect(job.status, job.error?.message).toBe('succeeded');
    const replaced = (await listModels()).find((m) => m.id === imported.id)!;
    expect(replaced.capabilities).toEqual({ reconstruct: true, chat: true });
    expect(existsSync(join(replaced.path, 'merges.txt'))).toBe(true);
  });

  it('asks before replacing: a re-import of an installed model fails already-installed before converting', async () => {
    events.length = 0;
    const job = await runJob('models.import', { path: join(dir, 'my-checkpoint'), precision: 'fp16' });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'already-installed' });
    expect(job.error?.fix).toMatch(/Replace/);
    // Refused at verify time: no conversion ran.
    expect(events.filter((e) => e.id === job.id).map((e) => e.stage)).not.toContain('convert');
    expect(leftovers()).toEqual([]);
  });

  it('precisions: each precision of a folder before converting, and of the official model before downloading', async () => {
    const local = (await studio.call('models.precisions', {
      path: join(dir, 'my-checkpoint'),
    })) as PrecisionAdvice;
    expect(local.options.map((o) => o.precision)).toEqual(['fp32', 'fp16', 'int8', 'int4']);
    const size = (p: string) => local.options.find((o) => o.precision === p)!.diskBytes;
    expect(size('fp16')).toBeCloseTo(size('fp32') / 2, -3);
    // The tiny checkpoint fits any machine: auto keeps full precision on the CPU.
    expect(local).toMatchObject({ device: 'cpu', auto: { precision: 'fp32' } });
    expect(local.auto.reason).toMatch(/^fp32: an 8-frame reconstruction needs about/);
    const official = (await studio.call('models.precisions', {})) as PrecisionAdvice;
    expect(official.checkpoint).toMatch(/official/);
    // 4.54 B parameters: ~18 GB in float32, ~5.8 GB as 8-bit blocks.
    expect(official.options.find((o) => o.precision === 'fp32')!.diskBytes).toBeGreaterThan(17e9);
    expect(official.options.find((o) => o.precision === 'int8')!.diskBytes).toBeLessThan(6e9);
    await expectCallError(
      studio.call('models.precisions', { path: join(dir, 'nowhere') }),
      'unreadable-path',
      /does not exist/,
    );
  });

  it('precision auto converts to what models.precisions picks and says why in the log and the result', async () => {
    events.length = 0;
    const job = await runJob('models.import', { path: join(dir, 'my-checkpoint'), precision: 'auto' });
    expect(job.status, job.error?.message).toBe('succeeded');
    expect(job.result).toMatchObject({ precision: 'fp32' });
    expect(String(job.result?.precisionReason)).toMatch(/^fp32: an 8-frame reconstruction/);
    expect(events.some((e) => e.id === job.id && e.message.startsWith('Precision auto → fp32'))).toBe(true);
    await studio.call('models.remove', { modelId: String(job.result?.modelId) });
  });

  it('refuses a folder that is not there at call time, and one that is no checkpoint in the job', async () => {
    await expectCallError(
      studio.call('models.import', { path: join(dir, 'nowhere') }),
      'unreadable-path',
      /does not exist/,
    );
    const job = await runJob('models.import', { path: dir });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('model-missing');
    expect(leftovers()).toEqual([]);
  });

  it('use makes a model active; use of an unknown id is not-found', async () => {
    const used = (await studio.call('models.use', { modelId: imported.id })) as ModelInfo;
    expect(used).toMatchObject({ id: imported.id, active: true });
    expect((await listModels()).filter((m) => m.active).map((m) => m.id)).toEqual([imported.id]);
    const runtime = (await studio.call('models.runtime', {})) as ModelRuntimeInfo;
    expect(runtime).toMatchObject({ precision: 'fp16', providerSetting: 'cpu', provider: 'cpu' });
    expect(runtime.activeModel?.id).toBe(imported.id);
    await expectCallError(studio.call('models.use', { modelId: 'nope' }), 'not-found', /nope/);
  });

  it('remove is refused while a queued job will use the model, then deletes its folder and picks another active model', async () => {
    const ply = join(dir, 'cloud.ply');
    writeBinaryPly(ply, new Float32Array([0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 2]), null);
    const scene = await runJob('scenes.import', { sources: [{ kind: 'path', path: ply }] });
    expect(scene.status, scene.message).toBe('succeeded');
    // A conversion in front keeps the reconstruction queued (jobs run one at a time).
    const blocker = await start('models.import', { path: join(dir, 'my-checkpoint') });
    const reconstruct = await start('scenes.reconstruct', { sceneId: String(scene.result?.sceneId) });
    await expectCallError(studio.call('models.remove', { modelId: imported.id }), 'busy', /in use by a job/);
    await studio.call('jobs.cancel', { jobId: reconstruct });
    await studio.waitForJob(reconstruct);
    await studio.waitForJob(blocker);

    const removal = (await studio.call('models.remove', { modelId: imported.id })) as ModelRemoval;
    expect(removal).toMatchObject({ modelId: imported.id, deletedFolder: true });
    expect(existsSync(imported.path)).toBe(false);
    const models = await listModels();
    expect(models.map((m) => m.id)).not.toContain(imported.id);
    expect(removal.active).not.toBeNull();
    expect(models.filter((m) => m.active).map((m) => m.id)).toEqual([removal.active!.id]);
    expect(leftovers()).toEqual([]);
    await expectCallError(
      studio.call('models.remove', { modelId: imported.id }),
      'not-found',
      /no installed model/,
    );
  });

  it('remove of a model registered from outside the library unregisters it and leaves its folder alone', async () => {
    const outside = join(dir, 'outside-model');
    await convertCheckpoint(join(dir, 'my-checkpoint'), outside, { dtype: 'fp32' });
    const registered = (await studio.call('models.register', { path: outside })) as ModelInfo;
    const removal = (await studio.call('models.remove', { modelId: registered.id })) as ModelRemoval;
    expect(removal.deletedFolder).toBe(false);
    expect(existsSync(join(outside, 'manifest.json'))).toBe(true);
    // The library's own copy under the same id (the blocker's import above) went with the row.
    expect(existsSync(join(modelsDir, registered.id))).toBe(false);
    expect((await listModels()).map((m) => m.id)).not.toContain(registered.id);
  });

  it('removing the last model leaves none active', async () => {
    for (const model of await listModels()) await studio.call('models.remove', { modelId: model.id });
    expect(await listModels()).toEqual([]);
    expect(readdirSync(modelsDir)).toEqual([]);
    const runtime = (await studio.call('models.runtime', {})) as ModelRuntimeInfo;
    expect(runtime).toMatchObject({ activeModel: null, precision: null });
  });
});
