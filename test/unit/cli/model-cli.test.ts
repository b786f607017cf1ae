// `g2studio model …` run through the real CLI entry (runCli + commander) with
// the model commands contributed, on real checkpoint folders; the installed-model
// commands download from a real HTTP hub on 127.0.0.1 (test/support/hub-server.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../../main/cli/program';
import type { CliIo } from '../../../main/cli/output';
import {
  SafetensorsFile,
  writeSafetensors,
  type TensorToWrite,
} from '../../../main/model/checkpoint/safetensors';
import type { ModelInfo, ModelRemoval, ModelRuntimeInfo } from '../../../main/common/domain';
import { startFakeHub, type FakeHub } from '../../support/hub-server';
import { SHARED_DIR } from '../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const GOLDEN_CHECKPOINT = join(GOLDEN, 'checkpoint');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function g2studio(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const io: CliIo = { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) };
  const code = await runCli(['node', 'g2studio', ...args], { io });
  return { code, stdout, stderr };
}

function expectCleanFailure(run: Run, message: RegExp): void {
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(/^Error: /m);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at .+[:(]/);
}

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'g2-model-cli-'));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('g2studio model', () => {
  it('inspect: validates the golden checkpoint and summarises it', async () => {
    const run = await g2studio('model', 'inspect', GOLDEN_CHECKPOINT);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('valid G2VLM checkpoint');
    expect(run.stdout).toContain('8,060,580 in 410 tensors, BF16');
    expect(run.stdout).toMatch(/LLM \(MoT\)\s+hidden 128, 2 layers x 2 experts/);
    const asJson = await g2studio('model', 'inspect', GOLDEN_CHECKPOINT, '--json');
    const summary = JSON.parse(asJson.stdout) as {
      valid: boolean;
      parameterCount: number;
      catalogMatch: string | null;
    };
    expect(summary).toMatchObject({ valid: true, parameterCount: 8_060_580, catalogMatch: null });
  });

  it('inspect: a damaged checkpoint fails with the file and tensor named, no stack trace', async () => {
    const dir = join(work, 'damaged');
    await fs.mkdir(dir);
    for (const file of await fs.readdir(GOLDEN_CHECKPOINT))
      await fs.copyFile(join(GOLDEN_CHECKPOINT, file), join(dir, file));
    await fs.chmod(join(dir, 'model.safetensors'), 0o644);
    await fs.truncate(join(dir, 'model.safetensors'), 1_000_000);
    const run = await g2studio('model', 'inspect', dir);
    expectCleanFailure(run, /model\.safetensors: the file is truncated/);
    expect(run.stderr).toMatch(/^Fix: /m);
  });

  it('generate-random: writes a checkpoint that inspect accepts; refuses a bad preset', async () => {
    const out = join(work, 'random-tiny');
    const run = await g2studio('model', 'generate-random', out, '--preset', 'tiny', '--seed', '5', '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { parameterCount: number; dir: string; dtype: string };
    expect(result).toMatchObject({ parameterCount: 8_060_612, dir: out, dtype: 'bf16' });
    expect((await g2studio('model', 'inspect', out)).stdout).toContain('valid G2VLM checkpoint');
    const bad = await g2studio('model', 'generate-random', join(work, 'x'), '--preset', 'huge');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/huge/);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it('convert: writes a runtime model folder with a manifest', async () => {
    const out = join(work, 'converted');
    const run = await g2studio('model', 'convert', GOLDEN_CHECKPOINT, '--out', out, '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      modelDir: string;
      manifest: { graphs: Record<string, unknown> };
    };
    expect(result.modelDir).toBe(out);
    expect(Object.keys(result.manifest.graphs)).toEqual(
      expect.arrayContaining(['dino', 'llm_block', 'point_decoder']),
    );
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    // Progress went to stderr, not into the JSON on stdout.
    expect(run.stderr).toMatch(/convert: /);
  });

  it('verify-golden: every compared tensor within tolerance, exit 0, PASS table', async () => {
    const run = await g2studio('model', 'verify-golden', GOLDEN);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^TENSOR\s+MAX ABS\s+MAX REL\s+ATOL\s+RTOL\s+RESULT/m);
    expect(run.stdout).toMatch(/^recon\.camera_poses\s+\S+\s+\S+\s+\S+\s+\S+\s+PASS$/m);
    expect(run.stdout).not.toMatch(/FAIL/);
    const summary = /(\d+)\/(\d+) tensors within tolerance/.exec(run.stdout);
    expect(summary).not.toBeNull();
    expect(Number(summary![1])).toBe(Number(summary![2]));
    expect(Number(summary![2])).toBeGreaterThan(10);
  });

  it('verify-golden: a golden set the runtime does not reproduce fails with exit 1 and a FAIL row', async () => {
    // A copy of the golden set whose official camera poses were moved by 0.01.
    const copy = join(work, 'golden-tampered');
    await fs.cp(GOLDEN, copy, { recursive: true });
    // The shared golden files are read-only; the copy must be writable (and removable).
    for (const entry of await fs.readdir(copy, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      await fs.chmod(path, entry.isDirectory() ? 0o755 : 0o644);
    }
    await fs.chmod(copy, 0o755);
    const outputsPath = join(copy, 'outputs', 'outputs.safetensors');
    const outputs = await SafetensorsFile.open(outputsPath);
    const tensors: TensorToWrite[] = [];
    for (const info of outputs.tensors.values()) {
      let data: Uint8Array | Float32Array = await outputs.readRaw(info.name);
      if (info.name === 'recon.camera_poses')
        data = (await outputs.readFloat32(info.name)).map((v) => v + 0.01);
      tensors.push({ name: info.name, dtype: info.dtype, shape: info.shape, data });
    }
    await outputs.close();
    await writeSafetensors(outputsPath, tensors);
    const run = await g2studio('model', 'verify-golden', copy);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout, run.stderr).not.toBe('');
    expect(run.stdout).toMatch(/^recon\.camera_poses\s+0\.0100\s+\S+\s+\S+\s+\S+\s+FAIL$/m);
    expect(run.stdout).toMatch(/^recon\.points\s+.*PASS$/m);
    expectCleanFailure(run, /1 of \d+ golden tensors are outside their tolerance: recon\.camera_poses/);
  });

  it('catalog: lists the official checkpoint with its hub id and licence', async () => {
    const run = await g2studio('model', 'catalog');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /g2vlm-2b-mot\s+InternRobotics\/G2VLM-2B-MoT\s+main\s+Apache-2\.0\s+4,538,215,076/,
    );
  });
});

describe('g2studio model list|download|import|use|remove', () => {
  let hub: FakeHub;
  let savedEndpoint: string | undefined;
  let library: string;
  const lib = (...args: string[]): Promise<Run> => g2studio('--library', library, ...args);

  beforeAll(async () => {
    hub = await startFakeHub();
    savedEndpoint = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = hub.url;
    library = join(work, 'library');
  });
  afterAll(async () => {
    await hub.close();
    if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = savedEndpoint;
  });

  it('list on an empty library says how to get a model, and shows why CUDA is missing', async () => {
    const run = await lib('model', 'list');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /No model is installed yet\. Download the official one with: g2studio model download/,
    );
    expect(run.stdout).toMatch(/^CPU\s+available \(.+, [\d.]+ GiB\)$/m);
    const runtime = JSON.parse((await lib('model', 'runtime', '--json')).stdout) as ModelRuntimeInfo;
    const cuda = runtime.providers.find((p) => p.name === 'cuda')!;
    if (!cuda.available) expect(run.stdout).toContain(cuda.reason);
    expect(JSON.parse((await lib('model', 'list', '--json')).stdout)).toEqual([]);
  });

  it('download: a dropped transfer resumes, progress on stderr, the model is installed and active', async () => {
    hub.reset();
    hub.behaviour.dropOnce.add('model.safetensors');
    const run = await lib('model', 'download', hub.repo, '--precision', 'fp16', '--json');
    expect(run.code, run.stderr).toBe(0);
    const model = JSON.parse(run.stdout) as ModelInfo;
    expect(model).toMatchObject({ name: 'tiny-g2', precision: 'fp16', active: true });
    expect(hub.log.filter((r) => r.path.startsWith('/cdn/') && r.range)).toHaveLength(1);
    expect(run.stderr).toMatch(/^download: download \d+% - Downloading model\.safetensors: /m);
    expect(run.stderr).toMatch(/^download: verify \d+% - Checking the checkpoint/m);
    expect(run.stderr).toMatch(/^download: convert \d+% - Converting/m);

    const listed = await lib('model', 'list');
    expect(listed.stdout).toMatch(
      new RegExp(`^${model.id}\\s+tiny-g2\\s+fp16\\s+reconstruct, chat\\s+yes\\s`, 'm'),
    );
    expect(listed.stdout).toMatch(/^provider: cpu \(setting: auto\); precision: fp16$/m);
  });

  it('a corrupted download fails with Error/Fix and exit 1; nothing new is installed', async () => {
    hub.reset();
    hub.behaviour.corrupt.add('model.safetensors');
    const run = await lib('model', 'download', hub.repo, '--revision', 'other');
    expectCleanFailure(run, /model\.safetensors arrived corrupted/);
    expect(run.stderr).toMatch(/^Fix: Download the model again/m);
    expect(JSON.parse((await lib('model', 'list', '--json')).stdout)).toHaveLength(1);
  });

  it('import, use and remove by id or name', async () => {
    const imported = await lib('model', 'import', GOLDEN_CHECKPOINT);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^Installed checkpoint \(fp32\) as (\S+)\.$/m);
    const id = /as (\S+)\.$/m.exec(imported.stdout)![1];
    expect(imported.stdout).toContain(`Use it: g2studio model use ${id}`);

    const used = await lib('model', 'use', id);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stdout).toBe(`Active model: checkpoint (${id}, fp32).\n`);

    const removed = await lib('model', 'remove', 'checkpoint', '--json');
    expect(removed.code, removed.stderr).toBe(0);
    const removal = JSON.parse(removed.stdout) as ModelRemoval;
    expect(removal).toMatchObject({ modelId: id, deletedFolder: true, active: { name: 'tiny-g2' } });
    expect(existsSync(join(library, 'models', id))).toBe(false);

    expectCleanFailure(
      await lib('model', 'use', 'nothing-here'),
      /There is no installed model "nothing-here"/,
    );
    const last = await lib('model', 'remove', removal.active!.id);
    expect(last.stdout).toMatch(/^Active model: none$/m);
  });
});
