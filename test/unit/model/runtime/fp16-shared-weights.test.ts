// fp16 weights on the CPU must never cost more memory than fp32: the LLM
// graphs (causal, non-causal; chat's decode graph too) read one mapped copy of
// the fp16 weights instead of each folding them into a private float32 copy.
// Measured on the medium random checkpoint, whose LLM layers are ~100 MB in
// fp16 (~200 MB as float32): the control (ORT's default folding) must show the
// two float32 copies, or the test could not tell the difference.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRandomCheckpoint } from '../../../../main/model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { residentWeightBytes } from '../../../../main/model/engine/memory-estimate';
import {
  graphPath,
  readModelManifest,
  type ModelManifest,
} from '../../../../main/model/runtime/model-manifest';
import { createSession, type SessionTuning } from '../../../../main/model/runtime/session';

const work = fs.mkdtempSync(join(os.tmpdir(), 'fp16-shared-'));
const modelDir = join(work, 'medium-fp16');
let manifest: ModelManifest;
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Anonymous (private, not file-backed) memory of this process. */
function anonymousBytes(): number {
  const rollup = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  return Number(/Anonymous:\s+(\d+) kB/.exec(rollup)![1]) * 1024;
}

async function anonymousGrowthOfLlmSessions(tuning: SessionTuning): Promise<number> {
  const before = anonymousBytes();
  const causal = await createSession(graphPath(modelDir, manifest, 'llm_causal'), 'cpu', tuning);
  const block = await createSession(graphPath(modelDir, manifest, 'llm_block'), 'cpu', tuning);
  const growth = anonymousBytes() - before;
  await causal.session.release();
  await block.session.release();
  return growth;
}

describe.skipIf(process.platform !== 'linux')('fp16 weights on the CPU (Linux: reads smaps)', () => {
  beforeAll(async () => {
    const checkpoint = join(work, 'medium-ckpt');
    await generateRandomCheckpoint(checkpoint, 'medium', { dtype: 'BF16', seed: 0 });
    await convertCheckpoint(checkpoint, modelDir, { precision: 'fp16' });
    manifest = readModelManifest(modelDir);
  }, 120_000);

  it('two LLM sessions share the mapped fp16 weights instead of folding a float32 copy each', async () => {
    const fp16LlmBytes = (await residentWeightBytes(modelDir, manifest.graphs, ['llm_block']))!;
    expect(fp16LlmBytes).toBeGreaterThan(50 * 2 ** 20);
    const shared = await anonymousGrowthOfLlmSessions({ sharedWeights: true, castWeightsPerRun: true });
    const folded = await anonymousGrowthOfLlmSessions({ sharedWeights: true });
    // Folding: two float32 copies = 4x the fp16 bytes. Shared: well under one fp16 copy.
    expect(folded).toBeGreaterThan(3 * fp16LlmBytes);
    expect(shared).toBeLessThan(0.5 * fp16LlmBytes);
  }, 120_000);
});
