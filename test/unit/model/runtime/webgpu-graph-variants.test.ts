// The WebGPU variants the converter writes beside each graph with attention
// (attention as MatMul/Softmax, which ORT's WebGPU provider runs exactly;
// docs/webgpu.md): the same weight ranges, no Attention node, picked only for
// WebGPU sessions, and the same results as the official model. The results are
// checked here on the CPU (every CI machine); the SwiftShader verify-golden in
// webgpu-provider.test.ts runs them on WebGPU.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import type { FrameInput } from '../../../../main/model/engine/engine-types';
import { verifyChatGolden } from '../../../../main/model/chat/verify-chat';
import { readGoldenManifest } from '../../../../main/model/golden/verify-golden';
import { GoldenTensorReader, compareAllclose } from '../../../../main/model/golden/golden-tensors';
import {
  graphPath,
  MODEL_MANIFEST_FILE,
  WEBGPU_VARIANT_GRAPHS,
  type ModelManifest,
} from '../../../../main/model/runtime/model-manifest';
import { cpuNodesLine, STALE_WEBGPU_GRAPHS_HINT } from '../../../../main/model/runtime/node-placement';
import { releaseReconModels, runReconstruction } from '../../../../main/model/runtime/recon-pipeline';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'webgpu-variants-'));
const modelDir = join(work, 'model');
/** The same model with every graph entry pointing at its WebGPU variant, for CPU sessions. */
const variantsDir = join(work, 'variants-as-default');
let manifest: ModelManifest;

/** Every node of a graph and its subgraphs (the LLM block's Loop body). */
function opTypes(graph: onnx.IGraphProto | null | undefined): string[] {
  return (graph?.node ?? []).flatMap((node) => [
    node.opType ?? '',
    ...(node.attribute ?? []).flatMap((a) => opTypes(a.g)),
  ]);
}

/** name → "offset:length" of a graph file's external initializers. */
function externalWeights(file: string): Map<string, string> {
  const model = onnx.ModelProto.decode(fs.readFileSync(file));
  const out = new Map<string, string>();
  for (const init of model.graph?.initializer ?? []) {
    const kv = Object.fromEntries((init.externalData ?? []).map((e) => [e.key, e.value]));
    if (kv.location) out.set(init.name ?? '', `${kv.location}@${kv.offset}:${kv.length}`);
  }
  return out;
}

beforeAll(async () => {
  manifest = await convertCheckpoint(join(GOLDEN, 'checkpoint'), modelDir);
  fs.mkdirSync(variantsDir);
  for (const file of fs.readdirSync(modelDir))
    if (file !== MODEL_MANIFEST_FILE) fs.copyFileSync(join(modelDir, file), join(variantsDir, file));
  const graphs = Object.fromEntries(
    Object.entries(manifest.graphs).map(([id, entry]) => [id, { file: entry?.webgpuFile ?? entry?.file }]),
  );
  fs.writeFileSync(join(variantsDir, MODEL_MANIFEST_FILE), JSON.stringify({ ...manifest, graphs }));
});
afterAll(async () => {
  await releaseReconModels();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('WebGPU graph variants', () => {
  it('are written for every graph with attention, over the same weight ranges, with no Attention node', () => {
    expect(WEBGPU_VARIANT_GRAPHS.length).toBe(7);
    for (const id of WEBGPU_VARIANT_GRAPHS) {
      const entry = manifest.graphs[id]!;
      expect(entry.webgpuFile, id).toBe(`${id}.webgpu.onnx`);
      const standard = onnx.ModelProto.decode(fs.readFileSync(join(modelDir, entry.file)));
      const variant = onnx.ModelProto.decode(fs.readFileSync(join(modelDir, entry.webgpuFile!)));
      expect(opTypes(standard.graph), id).toContain('Attention');
      expect(opTypes(variant.graph), id).not.toContain('Attention');
      expect(opTypes(variant.graph), id).toContain('Softmax');
      // The same initializers at the same places of the one weights file: no weight bytes added.
      expect(externalWeights(join(modelDir, entry.webgpuFile!)), id).toEqual(
        externalWeights(join(modelDir, entry.file)),
      );
      expect(graphPath(modelDir, manifest, id, 'webgpu')).toBe(join(modelDir, entry.webgpuFile!));
      expect(graphPath(modelDir, manifest, id, 'cpu')).toBe(join(modelDir, entry.file));
      expect(graphPath(modelDir, manifest, id, 'cuda')).toBe(join(modelDir, entry.file));
    }
    // Graphs without attention have no variant.
    expect(manifest.graphs.embed_tokens?.webgpuFile).toBeUndefined();
    expect(manifest.graphs.lm_head?.webgpuFile).toBeUndefined();
  });

  it('a folder converted before the variants: WebGPU sessions load the standard graphs, and the report says to convert again', () => {
    const { webgpuFile: _dropped, ...old } = manifest.graphs.dino!;
    const before: ModelManifest = { ...manifest, graphs: { ...manifest.graphs, dino: old } };
    expect(graphPath(modelDir, before, 'dino', 'webgpu')).toBe(join(modelDir, 'dino.onnx'));
    const line = cpuNodesLine('webgpu', {
      cpuNodes: { dino: 13, embed_tokens: 0 },
      cpuNodeOps: { dino: { Slice: 11, Attention: 2 } },
    });
    expect(line).toBe(
      `13 nodes ran on the CPU instead of webgpu: dino 13 (Slice 11, Attention 2). ${STALE_WEBGPU_GRAPHS_HINT}`,
    );
    expect(line).toContain('g2studio model convert');
    // Without an Attention on the CPU there is nothing to convert again for.
    expect(cpuNodesLine('webgpu', { cpuNodes: { dino: 3 }, cpuNodeOps: { dino: { Slice: 3 } } })).toBe(
      '3 nodes ran on the CPU instead of webgpu: dino 3 (Slice 3).',
    );
  });

  it('reconstruct the golden frames like the official model (run on the CPU)', async () => {
    const golden = new GoldenTensorReader(GOLDEN);
    const names = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
    const frames: FrameInput[] = names.map((name) => ({
      name,
      bytes: fs.readFileSync(join(GOLDEN, 'inputs/images', name)),
    }));
    const out = await runReconstruction({ modelDir: variantsDir, frames });
    expect(out.executionProvider).toBe('cpu');
    // The tolerances of the standard graphs' test (model-recon.test.ts).
    const read = async (name: string): Promise<Float32Array> =>
      (await golden.readFloat32('outputs/outputs.safetensors', name)).data;
    const poses = compareAllclose(out.worldFromCamera, await read('recon.camera_poses'), 2e-4, 1e-4);
    const points = compareAllclose(out.worldPoints, await read('recon.points'), 2.2e-3, 2e-4);
    const local = compareAllclose(out.localPoints, await read('recon.local_points'), 2.3e-3, 2e-4);
    await golden.close();
    expect(poses.pass, `poses max abs ${poses.maxAbs}`).toBe(true);
    expect(points.pass, `points max abs ${points.maxAbs}`).toBe(true);
    expect(local.pass, `local points max abs ${local.maxAbs}`).toBe(true);
  }, 120_000);

  it('answer the golden chat like the official model (vision tower and LLM graphs; run on the CPU)', async () => {
    const goldenManifest = readGoldenManifest(GOLDEN);
    const entries = await verifyChatGolden(GOLDEN, goldenManifest, variantsDir, { dtype: 'fp32' });
    const compared = entries.filter((e) => !e.skipped);
    expect(compared.filter((e) => !e.pass).map((e) => `${e.name} ${e.maxAbs}`)).toEqual([]);
    expect(compared.some((e) => e.name === 'chat.decode_argmax_ids')).toBe(true);
    expect(compared.length).toBeGreaterThan(10);
  }, 180_000);
});
