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

/** Peak growth of file-backed RSS over: causal text, a non-causal geometry block, causal text again. */
async function peakMappedGrowth(
  keepLayerSessionsOpen: boolean,
): Promise<{ growth: number; open: string[][] }> {
  const before = residentFileBytes();
  const llm = await LlmRunner.load(modelDir, manifest, 'cpu', { lmHead: false, keepLayerSessionsOpen });
  const D = llm.hiddenSize;
  const cache = llm.newCache();
  let peak = 0;
  const open: string[][] = [];
  const step = async (block: ReturnType<typeof textBlock>): Promise<void> => {
    await llm.run(cache, block);
    peak = Math.max(peak, residentFileBytes() - before);
    open.push(llm.layerSessions.openNames());
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
  return { growth: peak, open };
}

describe.skipIf(process.platform !== 'linux')('LLM graphs over shared weights (Linux: reads /proc)', () => {
  beforeAll(async () => {
    const checkpoint = join(work, 'medium-ckpt');
    await generateRandomCheckpoint(checkpoint, 'medium', { dtype: 'BF16', seed: 0 });
    await convertCheckpoint(checkpoint, modelDir, { precision: 'fp32' });
    fs.rmSync(checkpoint, { recursive: true, force: true });
    manifest = readModelManifest(modelDir);
  }, 180_000);

  it('on the CPU one graph is open at a time, so the layers are mapped once', async () => {
    const layerBytes = (await residentWeightBytes(modelDir, manifest.graphs, ['llm_block']))!;
    expect(layerBytes).toBeGreaterThan(100 * 2 ** 20);
    const oneOpen = await peakMappedGrowth(false);
    const bothOpen = await peakMappedGrowth(true);
    expect(oneOpen.open).toEqual([['causal'], ['block'], ['causal']]);
    expect(bothOpen.open.at(-1)?.sort()).toEqual(['block', 'causal']);
    // Both open: the und expert's layers (about half the LLM's) are counted twice.
    expect(bothOpen.growth).toBeGreaterThan(1.3 * layerBytes);
    expect(oneOpen.growth).toBeLessThan(1.1 * layerBytes);
  }, 180_000);
});
