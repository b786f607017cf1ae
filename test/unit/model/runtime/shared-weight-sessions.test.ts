// The LLM's causal and non-causal graphs read the same layer weights from one
// mapped file. On the CPU each open session maps those pages again and RSS
// counts them once per mapping, so only one of them may be open at a time.
// Measured on the medium random checkpoint (fp32): the file-backed resident
// memory of this process after a causal and a non-causal run, with the graphs
// taking turns, against the control that keeps both open (which must show the
// und expert's layers counted twice, or the test could not tell).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRandomCheckpoint } from '../../../../main/model/checkpoint/random-checkpoint';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { residentWeightBytes } from '../../../../main/model/engine/memory-estimate';
import { LlmRunner } from '../../../../main/model/runtime/llm-runner';
import { readModelManifest, type ModelManifest } from '../../../../main/model/runtime/model-manifest';

const work = fs.mkdtempSync(join(os.tmpdir(), 'shared-weight-sessions-'));
const modelDir = join(work, 'medium-fp32');
let manifest: ModelManifest;
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** File-backed resident memory of this process (mapped weights pages, once per mapping). */
function residentFileBytes(): number {
  return Number(/RssFile:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

function textBlock(rows: number, hidden: number, firstPosition: number, geoRows?: Int32Array) {
  const embeds = new Float32Array(rows * hidden).map((_, i) => Math.sin(i) * 0.1);
  const positions = new Int32Array(3 * rows);
  for (let r = 0; r < 3; r++) for (let i = 0; i < rows; i++) positions[r * rows + i] = firstPosition + i;
  return { embeds, positions, causal: !geoRows, ...(geoRows ? { geoRows } : {}) };
}

interface Pass {
  growth: number;
  open: string[][];
  hidden: Float32Array[];
}

/** Peak growth of file-backed RSS over: causal text, a non-causal geometry block, causal text again. */
async function peakMappedGrowth(opts: {
  twoGraphs?: boolean;
  keepLayerSessionsOpen?: boolean;
  attentionForm?: 'matmul-softmax';
}): Promise<Pass> {
  const before = residentFileBytes();
  const llm = await LlmRunner.load(modelDir, manifest, 'cpu', { lmHead: false, ...opts });
  const D = llm.hiddenSize;
  const cache = llm.newCache();
  const pass: Pass = { growth: 0, open: [], hidden: [] };
  const step = async (block: ReturnType<typeof textBlock>): Promise<void> => {
    pass.hidden.push((await llm.run(cache, block)).hidden);
    pass.growth = Math.max(pass.growth, residentFileBytes() - before);
    pass.open.push(llm.layerSessions.openNames());
  };
  await step(textBlock(8, D, 0));
  await step(
    textBlock(
      64,
      D,
      8,
      Int32Array.from({ length: 62 }, (_, i) => i + 1),
    ),
  );
  await step(textBlock(8, D, 72));
  await llm.release();
  return pass;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.skipIf(process.platform !== 'linux')('LLM graphs over shared weights (Linux: reads /proc)', () => {
  beforeAll(async () => {
    const checkpoint = join(work, 'medium-ckpt');
    await generateRandomCheckpoint(checkpoint, 'medium', { dtype: 'BF16', seed: 0 });
    await convertCheckpoint(checkpoint, modelDir, { precision: 'fp32' });
    fs.rmSync(checkpoint, { recursive: true, force: true });
    manifest = readModelManifest(modelDir);
  }, 180_000);

  it('maps the layers once on the CPU: one graph for every block, or two taking turns', async () => {
    const layerBytes = (await residentWeightBytes(modelDir, manifest.graphs, ['llm_block']))!;
    expect(layerBytes).toBeGreaterThan(100 * 2 ** 20);
    const oneGraph = await peakMappedGrowth({});
    const takingTurns = await peakMappedGrowth({ twoGraphs: true });
    const bothOpen = await peakMappedGrowth({ twoGraphs: true, keepLayerSessionsOpen: true });
    expect(fs.existsSync(join(modelDir, 'llm_one.onnx'))).toBe(true);
    expect(oneGraph.open).toEqual([['one'], ['one'], ['one']]);
    expect(takingTurns.open).toEqual([['causal'], ['block'], ['causal']]);
    expect(bothOpen.open.at(-1)?.sort()).toEqual(['block', 'causal']);
    // Both open: the und expert's layers (about half the LLM's) are counted twice.
    expect(bothOpen.growth).toBeGreaterThan(1.3 * layerBytes);
    expect(takingTurns.growth).toBeLessThan(1.1 * layerBytes);
    expect(oneGraph.growth).toBeLessThan(1.1 * layerBytes);
    // The one graph's causal input gives the causal graph's results (and the block's when unset),
    // in both attention forms (the WebGPU one, MatMul/Softmax, run here on the CPU).
    const webgpuForm = await peakMappedGrowth({ attentionForm: 'matmul-softmax' });
    expect(fs.existsSync(join(modelDir, 'llm_one.webgpu.onnx'))).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(oneGraph.hidden[i].length).toBe(takingTurns.hidden[i].length);
      expect(maxAbsDiff(oneGraph.hidden[i], takingTurns.hidden[i])).toBeLessThan(1e-4);
      expect(maxAbsDiff(webgpuForm.hidden[i], takingTurns.hidden[i])).toBeLessThan(1e-4);
    }
  }, 180_000);
});
