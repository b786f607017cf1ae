// Proves the runtime matches the official model on a golden folder: converts
// its checkpoint, runs the recon inputs the manifest lists, and compares every
// listed tensor the runtime produces with the manifest's tolerance
// (|a − g| ≤ atol + rtol·|g|; "exact" = equal). Works for any golden folder of
// the same layout (sizes, frame counts, aspect ratios, bf16/f32 weights,
// manifests listing fewer tensors). Chat tensors are handed to the chat
// module's verifier (a static import: the built bundle must carry it). A
// listed tensor that is not compared is a failure. Token ids are the ones the
// golden set states, not re-derived.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../common/errors';
import { convertCheckpoint } from '../convert/convert-checkpoint';
import { decodeRgb } from '../preprocess/dino-image';
import { ReconModel } from '../runtime/recon-pipeline';
import { verifyChatGolden } from '../chat/verify-chat';
import { combinedProvider } from '../runtime/session';
import { cpuNodesOfModel } from '../runtime/node-placement';
import { compareTensor } from './compare-tensor';
import { goldenSectionIds } from './golden-token-ids';
import { GoldenTensorReader } from './golden-tensors';
import type { GoldenManifest, GoldenReport, GoldenReportEntry } from './golden-types';

export type { GoldenManifest, GoldenReport, GoldenReportEntry } from './golden-types';
export { compareTensor } from './compare-tensor';

/** A tensor the manifest lists but the run did not compare: a failure, never a silent pass. */
function notCompared(name: string, why: string): GoldenReportEntry {
  return { name, maxAbs: NaN, maxRel: NaN, atol: 0, rtol: 0, pass: false, skipped: why };
}

/** The recon prompt ids the golden set states (after <bos>), fed instead of re-derived. */
function reconPromptIds(manifest: GoldenManifest): number[] | undefined {
  const recon = manifest.recon as Record<string, unknown> | undefined;
  const stated = goldenSectionIds(manifest, recon, 'prompt');
  if (stated) return stated;
  const prefill = manifest.recon?.text_prefill_ids;
  return prefill && prefill.length > 1 ? prefill.slice(1) : undefined;
}

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
        promptIds: reconPromptIds(manifest),
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
        entries.push(notCompared(name, 'not produced by the recon runtime'));
        continue;
      }
      const golden = await reader.read(spec.file, name);
      entries.push(compareTensor(name, spec, produced.data, produced.shape, golden.data, dtype));
    }
    if (chatNames.length > 0) {
      report(0.92, 'chat');
      const chatEntries = manifest.chat
        ? await verifyChatGolden(goldenDir, manifest, modelDir, {
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
          found ??
            notCompared(
              name,
              chatEntries ? 'not produced by the chat runtime' : 'the manifest has no chat section',
            ),
        );
      }
    }
    report(1, 'done');
    // A skipped check counts as a failure: a pass means every listed tensor was compared.
    return {
      entries,
      pass: entries.every((e) => e.pass && !e.skipped),
      executionProvider: combinedProvider(ran),
      providerNotes: [...new Set(providerNotes)],
      ...cpuNodesOfModel(modelDir),
    };
  } finally {
    await model?.release();
    await reader.close();
    if (ownWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
  }
}
