// Proves the runtime matches the official model on a golden folder: converts
// its checkpoint, runs the recon inputs the manifest lists, and compares every
// listed tensor the runtime produces with the manifest's tolerance
// (|a − g| ≤ atol + rtol·|g|; "exact" = equal). Works for any golden folder of
// the same layout (sizes, frame counts, aspect ratios, bf16/f32 weights,
// manifests listing fewer tensors). Chat tensors are handed to the chat
// module's verifier when the manifest has a `chat` section.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';
import { convertCheckpoint } from '../convert/convert-checkpoint';
import { decodeRgb } from '../preprocess/dino-image';
import { ReconModel } from '../runtime/recon-pipeline';
import { combinedProvider } from '../runtime/session';
import { GoldenTensorReader, compareAllclose } from './golden-tensors';
import type {
  GoldenManifest,
  GoldenReport,
  GoldenReportEntry,
  GoldenTensorSpec,
  VerifyChatGolden,
  VerifyChatOptions,
} from './golden-types';

export type { GoldenManifest, GoldenReport, GoldenReportEntry } from './golden-types';

export interface VerifyGoldenOptions {
  /** Where the converted model goes (kept); default: a temporary folder, removed afterwards. */
  workDir?: string;
  onProgress?: (progress: number, stage: string) => void;
  dtype?: 'fp32' | 'fp16';
  signal?: AbortSignal;
  /** The provider to verify on (default: the CPU). */
  executionProvider?: 'cpu' | 'cuda' | 'webgpu' | 'auto';
}

export function readGoldenManifest(goldenDir: string): GoldenManifest {
  const path = join(goldenDir, 'manifest.json');
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8')) as GoldenManifest;
  } catch (error) {
    throw new StudioError(
      'not-found',
      `${path} is missing or not valid JSON.`,
      'Choose a golden folder (it holds manifest.json).',
      {
        cause: error,
      },
    );
  }
}

/** Compares one produced tensor with its golden spec. */
export function compareTensor(
  name: string,
  spec: GoldenTensorSpec,
  actual: ArrayLike<number>,
  actualShape: number[],
  golden: ArrayLike<number> | BigInt64Array,
  dtype: 'fp32' | 'fp16',
): GoldenReportEntry {
  const goldenNumbers: ArrayLike<number> =
    golden instanceof BigInt64Array ? Array.from(golden, Number) : golden;
  const shapeOk = actualShape.join(',') === spec.shape.join(',');
  if (spec.tolerance.compare === 'exact') {
    let pass = shapeOk && actual.length === goldenNumbers.length;
    let maxAbs = 0;
    for (let i = 0; pass && i < goldenNumbers.length; i++) {
      const d = Math.abs(actual[i] - goldenNumbers[i]);
      if (d !== 0) pass = false;
      maxAbs = Math.max(maxAbs, d);
    }
    return {
      name,
      maxAbs: shapeOk ? maxAbs : Infinity,
      maxRel: 0,
      atol: 0,
      rtol: 0,
      pass,
      ...(shapeOk ? {} : { note: `shape [${actualShape}] vs [${spec.shape}]` }),
    };
  }
  let atol = spec.tolerance.atol ?? 0;
  let rtol = spec.tolerance.rtol ?? 0;
  if (dtype === 'fp16') {
    // Half-precision weights: the model doc §9 expects ~1e-2 relative differences.
    atol += 1e-2 * (spec.tolerance.ref_absmax ?? 1);
    rtol = Math.max(rtol, 1e-2);
  }
  const cmp = compareAllclose(actual, goldenNumbers, atol, rtol);
  return {
    name,
    maxAbs: shapeOk ? cmp.maxAbs : Infinity,
    maxRel: cmp.maxRel,
    atol,
    rtol,
    pass: shapeOk && cmp.pass,
    ...(shapeOk ? {} : { note: `shape [${actualShape}] vs [${spec.shape}]` }),
  };
}

export async function verifyGolden(goldenDir: string, opts: VerifyGoldenOptions = {}): Promise<GoldenReport> {
  const manifest = readGoldenManifest(goldenDir);
  const dtype = opts.dtype ?? 'fp32';
  const report = opts.onProgress ?? (() => undefined);
  const ownWorkDir = !opts.workDir;
  const workDir = opts.workDir ?? join(os.tmpdir(), `g2studio-golden-${randomBytes(4).toString('hex')}`);
  const modelDir = join(workDir, `model-${dtype}`);
  const reader = new GoldenTensorReader(goldenDir);
  const entries: GoldenReportEntry[] = [];
  let model: ReconModel | undefined;
  const ep = opts.executionProvider ?? 'cpu';
  const ran: Array<{ executionProvider: string }> = [];
  const providerNotes: string[] = [];
  try {
    await convertCheckpoint(join(goldenDir, manifest.checkpoint?.dir ?? 'checkpoint'), modelDir, {
      dtype,
      signal: opts.signal,
      onProgress: (p, stage) => report(0.3 * p, `convert: ${stage}`),
    });
    const captured = new Map<string, { data: ArrayLike<number>; shape: number[] }>();
    if (manifest.recon) {
      model = await ReconModel.load(modelDir, ep);
      ran.push(model);
      providerNotes.push(...model.providerNotes);
      const images = [];
      for (const image of manifest.recon.images)
        images.push(await decodeRgb(fs.readFileSync(join(goldenDir, image)), image));
      await model.reconstruct(images, {
        signal: opts.signal,
        onProgress: (p) => report(0.3 + 0.6 * p.progress, `recon: ${p.stage}`),
        capture: (name, data, shape) => captured.set(name, { data, shape }),
      });
    }
    report(0.9, 'compare');
    const chatNames: string[] = [];
    for (const [name, spec] of Object.entries(manifest.tensors)) {
      if (name.startsWith('chat.')) {
        chatNames.push(name);
        continue;
      }
      const produced = captured.get(name);
      if (!produced) {
        entries.push({
          name,
          maxAbs: NaN,
          maxRel: NaN,
          atol: 0,
          rtol: 0,
          pass: true,
          skipped: 'not produced by the recon runtime',
        });
        continue;
      }
      const golden = await reader.read(spec.file, name);
      entries.push(compareTensor(name, spec, produced.data, produced.shape, golden.data, dtype));
    }
    if (chatNames.length > 0) {
      const chatEntries = manifest.chat
        ? await runChatChecks(goldenDir, manifest, modelDir, {
            dtype,
            signal: opts.signal,
            executionProvider: ep,
            onProvider: (executionProvider, notes) => {
              ran.push({ executionProvider });
              providerNotes.push(...notes);
            },
          })
        : undefined;
      for (const name of chatNames) {
        const found = chatEntries?.find((e) => e.name === name);
        entries.push(
          found ?? {
            name,
            maxAbs: NaN,
            maxRel: NaN,
            atol: 0,
            rtol: 0,
            pass: true,
            skipped: chatEntries ? 'not produced by the chat runtime' : 'chat verifier not available',
          },
        );
      }
    }
    report(1, 'done');
    return {
      entries,
      pass: entries.every((e) => e.pass),
      executionProvider: combinedProvider(ran),
      providerNotes: [...new Set(providerNotes)],
    };
  } finally {
    await model?.release();
    await reader.close();
    if (ownWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Chat checks belong to the chat module (main/model/chat/verify-chat.ts). */
async function runChatChecks(
  goldenDir: string,
  manifest: GoldenManifest,
  modelDir: string,
  opts: VerifyChatOptions,
): Promise<GoldenReportEntry[] | undefined> {
  // A plain dynamic import: the bundler keeps the chat verifier as its own chunk
  // (the old @vite-ignore path did not exist in the built CLI, so chat was skipped there).
  let verifyChatGolden: VerifyChatGolden | undefined;
  try {
    verifyChatGolden = (await import('../chat/verify-chat')).verifyChatGolden;
  } catch {
    return undefined;
  }
  return verifyChatGolden ? verifyChatGolden(goldenDir, manifest, modelDir, opts) : undefined;
}
