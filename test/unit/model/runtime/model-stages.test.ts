// Stage-level parity on g2vlm-tiny-a: each network fed with the golden input of
// its stage, so a regression points at its layer. One test per pitfall of the
// model doc §10 that concerns these graphs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { dinoPositionInputs, antialiasedBicubicMatrix } from '../../../../main/model/g2vlm/dino-position';
import { PositionCounter, concatPositions, mropeCosSin } from '../../../../main/model/g2vlm/mrope';
import { rope2dTables } from '../../../../main/model/g2vlm/rope2d';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import { LlmRunner } from '../../../../main/model/runtime/llm-runner';
import { graphPath, type ModelManifest } from '../../../../main/model/runtime/model-manifest';
import { createSession, floatTensor, int64Tensor } from '../../../../main/model/runtime/session';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const IN = 'inputs/inputs.safetensors';
const OUT = 'outputs/outputs.safetensors';
const work = fs.mkdtempSync(join(os.tmpdir(), 'model-stages-'));
const modelDir = join(work, 'model');
const golden = new GoldenTensorReader(GOLDEN);
let manifest: ModelManifest;

const ids = async (name: string): Promise<number[]> =>
  Array.from((await golden.read(IN, name)).data as BigInt64Array, Number);
const floats = async (file: string, name: string): Promise<Float32Array> =>
  (await golden.readFloat32(file, name)).data;
const within = (actual: ArrayLike<number>, ref: ArrayLike<number>, atol = 2e-4, rtol = 1e-4): number => {
  const cmp = compareAllclose(actual, ref, atol, rtol);
  expect(cmp.pass, `max abs ${cmp.maxAbs} at ${cmp.worstIndex}`).toBe(true);
  return cmp.maxAbs;
};

beforeAll(async () => {
  manifest = await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
});
afterAll(async () => {
  await golden.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function session(id: Parameters<typeof graphPath>[2]): Promise<ort.InferenceSession> {
  return (await createSession(graphPath(modelDir, manifest, id))).session;
}

describe('DINO stage (recon.dino_image_normalized -> dino_out)', () => {
  it('matches the golden position table, embeddings, encoder output and dino2llm projection', async () => {
    const px = await golden.readFloat32(IN, 'recon.dino_image_normalized');
    const [N, , H, W] = px.shape;
    const pos = dinoPositionInputs(37, H / 14, W / 14);
    const s = await session('dino');
    const out = await s.run({
      pixel_values: floatTensor(px.data, px.shape),
      pos_rows: floatTensor(pos.rows, [H / 14, 37]),
      pos_cols_t: floatTensor(pos.colsT, [37, W / 14]),
    });
    within(out.dino_pos_embed.data as Float32Array, await floats(OUT, 'recon.dino_pos_embed'));
    within(out.dino_embeddings.data as Float32Array, await floats(OUT, 'recon.dino_embeddings'));
    const dinoOut = out.dino_out.data as Float32Array;
    const ref = await floats(OUT, 'recon.dino_out');
    within(dinoOut, ref);
    within(out.dino2llm_out.data as Float32Array, await floats(OUT, 'recon.dino2llm_out'));

    // Pitfall 1 (misaligned windows): the last N·(1+R) packed rows — the tail of
    // the last frame — see no attention at all; they must match too.
    const Dd = 32;
    const P = (H / 14) * (W / 14);
    const tailRows = N * (1 + 4);
    const tailStart = (N * P - tailRows) * Dd;
    within(dinoOut.subarray(tailStart), ref.subarray(tailStart));
    await s.release();
  });

  it('resamples the position table with antialiased Keys(a=-0.5) bicubic, identity when the size is unchanged (pitfall 7)', () => {
    const identity = antialiasedBicubicMatrix(37, 37);
    for (let i = 0; i < 37; i++)
      for (let j = 0; j < 37; j++) expect(identity[i * 37 + j]).toBe(i === j ? 1 : 0);
    const down = antialiasedBicubicMatrix(37, 21);
    // Antialiasing widens the support beyond the 4 taps of plain bicubic, and rows sum to 1.
    const middle = Array.from(down.subarray(10 * 37, 11 * 37));
    expect(middle.filter((w) => w !== 0).length).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 21; i++) {
      const row = Array.from(down.subarray(i * 37, (i + 1) * 37));
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    }
  });
});

describe('LLM stage (golden dino2llm_out -> geometry prefill)', () => {
  it('reproduces the KV cache of layer 0 and the final-normed hidden of the geometry block', async () => {
    const llm = await LlmRunner.load(modelDir, manifest);
    const cache = llm.newCache();
    const textPositions = Int32Array.from(await ids('recon.text_position_ids'));
    await llm.run(cache, {
      embeds: await llm.embedTokens(await ids('recon.text_ids')),
      positions: textPositions,
      causal: true,
    });
    const geoPositions = Int32Array.from(await ids('recon.geo_position_ids'));
    const dinoIdx = await ids('recon.geo_dino_indexes');
    const textIdx = await ids('recon.geo_text_indexes');
    const d2l = await floats(OUT, 'recon.dino2llm_out');
    const D = 128;
    const L = geoPositions.length / 3;
    const embeds = new Float32Array(L * D);
    dinoIdx.forEach((r, i) => embeds.set(d2l.subarray(i * D, (i + 1) * D), r * D));
    const te = await llm.embedTokens(await ids('recon.geo_text_ids'));
    textIdx.forEach((r, i) => embeds.set(te.subarray(i * D, (i + 1) * D), r * D));
    const block = { embeds, positions: geoPositions, geoRows: Int32Array.from(dinoIdx), causal: false };
    const { hidden } = await llm.run(cache, block);
    expect(llm.cacheLength(cache)).toBe(2346);
    within(hidden, await floats(OUT, 'recon.geo_prefill_last_hidden'));
    within(llm.cacheRows(cache, 0, 'keys'), await floats(OUT, 'recon.kv_layer0_k'));
    within(llm.cacheRows(cache, 0, 'values'), await floats(OUT, 'recon.kv_layer0_v'));

    // The same block with queries in blocks of 300 (bounded attention memory, uneven last block).
    const chunkCache = llm.newCache();
    await llm.run(chunkCache, {
      embeds: await llm.embedTokens(await ids('recon.text_ids')),
      positions: textPositions,
      causal: true,
    });
    const { hidden: chunked } = await llm.run(chunkCache, block, { queryChunk: 300 });
    expect(compareAllclose(chunked, hidden, 1e-5, 1e-5).pass).toBe(true);
    within(llm.cacheRows(chunkCache, 1, 'keys'), llm.cacheRows(cache, 1, 'keys'), 1e-5, 0);

    // Pitfall 6 (MoT routing): the same block with every row on the und expert is far off.
    const undCache = llm.newCache();
    await llm.run(undCache, {
      embeds: await llm.embedTokens(await ids('recon.text_ids')),
      positions: textPositions,
      causal: true,
    });
    const { hidden: allUnd } = await llm.run(undCache, { ...block, geoRows: new Int32Array(0) });
    expect(compareAllclose(allUnd, hidden, 1e-2, 0).pass).toBe(false);

    // Pitfall 5 (non-causal geometry block): the causal variant changes the
    // <|vision_start|> row of frame 0, which must see the whole image.
    const causalCache = llm.newCache();
    await llm.run(causalCache, {
      embeds: await llm.embedTokens(await ids('recon.text_ids')),
      positions: textPositions,
      causal: true,
    });
    const { hidden: causalHidden } = await llm.run(causalCache, { ...block, causal: true });
    expect(compareAllclose(causalHidden.subarray(0, D), hidden.subarray(0, D), 1e-3, 0).pass).toBe(false);
    await llm.release();
  });

  it('builds the official positions: counter advances by max(h, w) after each frame (pitfall 3)', async () => {
    const counter = new PositionCounter();
    const text = counter.text(9);
    const blocks: Int32Array[] = [];
    for (let n = 0; n < 3; n++) blocks.push(counter.text(1), counter.grid(21, 37), counter.text(1));
    expect(Array.from(text)).toEqual(await ids('recon.text_position_ids'));
    expect(Array.from(concatPositions(blocks))).toEqual(await ids('recon.geo_position_ids'));
    expect(counter.next).toBe(9 + 3 * (2 + 37));
  });

  it('M-RoPE uses sections [16, 24, 24] of a 128-wide head and float32 angles (pitfall 2)', () => {
    // Position rows t=1, h=1000, w=5000 for one token: frequency j takes row t for j<16, h for j<40, w otherwise.
    const { cos } = mropeCosSin(Int32Array.from([1, 1000, 5000]), 1, 128, 1e6);
    const inv0 = 1;
    expect(cos[0]).toBeCloseTo(Math.cos(inv0 * 1), 6);
    const inv = (j: number): number =>
      Math.fround(1 / Math.fround(Math.pow(1e6, Math.fround((2 * j) / 128))));
    expect(cos[20]).toBeCloseTo(Math.cos(Math.fround(1000 * inv(20))), 6);
    expect(cos[50]).toBeCloseTo(Math.cos(Math.fround(5000 * inv(50))), 6);
    expect(() => mropeCosSin(Int32Array.from([0, 0, 0]), 1, 64, 1e6)).toThrow(/head dim 128/);
  });
});

describe('decoder + head stage (golden geo_prefill_last_hidden DINO rows -> points)', () => {
  it('matches the three decoder hiddens, the raw camera outputs and the point maps', async () => {
    const gh = await floats(OUT, 'recon.geo_prefill_last_hidden');
    const dinoIdx = await ids('recon.geo_dino_indexes');
    const D = 128;
    const [N, h, w] = [3, 21, 37];
    const P = h * w;
    const hidden = new Float32Array(N * P * D);
    dinoIdx.forEach((r, i) => hidden.set(gh.subarray(r * D, (r + 1) * D), i * D));
    const { cos, sin } = rope2dTables(h, w, D / 16);
    const common = {
      hidden: floatTensor(hidden, [N, P, D]),
      rope_cos: floatTensor(cos, [P, D / 16]),
      rope_sin: floatTensor(sin, [P, D / 16]),
    };
    const grid = int64Tensor([h, w]);

    const point = await (await session('point_decoder')).run({ ...common, patch_grid: grid });
    within(point.point_decoder_hidden.data as Float32Array, await floats(OUT, 'recon.point_decoder_hidden'));
    // Pitfall 11: exp on depth only -> x, y carry the sign of the raw head, z > 0.
    const local = point.local_points.data as Float32Array;
    within(local, await floats(OUT, 'recon.local_points'), 2.3e-3, 2e-4);
    expect(point.local_points.dims).toEqual([N, 294, 518, 3]);
    for (let i = 2; i < local.length; i += 3 * 997) expect(local[i]).toBeGreaterThan(0);

    const camera = await (await session('camera_decoder')).run(common);
    within(
      camera.camera_decoder_hidden.data as Float32Array,
      await floats(OUT, 'recon.camera_decoder_hidden'),
    );
    within(camera.camera_rot9.data as Float32Array, await floats(OUT, 'recon.camera_head_rot9'));
    within(camera.camera_t.data as Float32Array, await floats(OUT, 'recon.camera_head_t'));

    const global = await (
      await session('global_decoder')
    ).run({ ...common, patch_grid: grid, context: floatTensor(hidden.slice(0, P * D), [1, P, D]) });
    within(
      global.global_points_decoder_hidden.data as Float32Array,
      await floats(OUT, 'recon.global_points_decoder_hidden'),
    );
    within(global.global_points.data as Float32Array, await floats(OUT, 'recon.global_points'), 1.8e-4, 2e-4);
  });
});
