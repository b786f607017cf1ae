// Writes one graph: its weights (streamed from the checkpoint, one tensor at a
// time, laid out as the graph wants them) into the shared external-data file,
// then the model file pointing at them.
import * as fs from 'node:fs';
import { StudioError } from '../../common/errors';
import type { Checkpoint } from '../checkpoint/checkpoint';
import type { GraphBuilder, WeightSpec } from '../graph/graph-builder';
import type { ExternalWeightsWriter } from '../graph/external-weights';
import { float32ArrayToHalf } from '../graph/half';
import { quantizeBlockwise, quantizePerColumnInt8, type QuantizedWeight } from '../graph/quantize';

/**
 * The last quantised tensor, so its data and scales initializers (two specs
 * of one source, written one after the other) quantise it once. Holds one
 * tensor at most: memory stays bounded by the largest weight.
 */
export class QuantCache {
  private key = '';
  private value: QuantizedWeight | undefined;

  async get(key: string, make: () => Promise<QuantizedWeight>): Promise<QuantizedWeight> {
    if (this.key !== key || !this.value) {
      this.value = undefined;
      this.value = await make();
      this.key = key;
    }
    return this.value;
  }
}

async function quantizedBytes(
  spec: WeightSpec,
  checkpoint: Checkpoint,
  cache: QuantCache,
): Promise<Uint8Array> {
  const quant = spec.quant!;
  const { scheme, K, N } = quant;
  const shape = checkpoint.info(spec.source).shape;
  if (shape.length !== 2 || shape[0] !== N || shape[1] !== K) {
    throw new StudioError(
      'model-corrupt',
      `Checkpoint tensor ${spec.source} has shape [${shape}], the graph expects [${N},${K}].`,
      'Use the configuration files that match these weights.',
    );
  }
  const key = `${spec.source}|${JSON.stringify(scheme)}`;
  const q = await cache.get(key, async () => {
    const w = await checkpoint.readFloat32(spec.source);
    return scheme.op === 'DynamicQuantizeMatMul'
      ? quantizePerColumnInt8(w, N, K)
      : quantizeBlockwise(w, N, K, scheme.bits, scheme.blockSize);
  });
  const part = quant.part === 'data' ? q.data : q.scales;
  return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
}

/** The bytes of one initializer, transformed and cast as the spec asks. */
export async function weightBytes(
  spec: WeightSpec,
  checkpoint: Checkpoint,
  cache: QuantCache = new QuantCache(),
): Promise<Uint8Array> {
  if (spec.quant) return quantizedBytes(spec, checkpoint, cache);
  const info = checkpoint.info(spec.source);
  const shape = [...info.shape];
  const count = spec.dims.reduce((a, b) => a * b, 1);
  const sourceCount = shape.reduce((a, b) => a * b, 1);
  const shapeOk =
    spec.transform === 'transpose'
      ? shape.length === 2 && shape[0] === spec.dims[1] && shape[1] === spec.dims[0]
      : sourceCount === count;
  if (!shapeOk) {
    throw new StudioError(
      'model-corrupt',
      `Checkpoint tensor ${spec.source} has shape [${shape}], the graph expects [${spec.dims}]${spec.transform === 'transpose' ? ' (transposed)' : ''}.`,
      'Use the configuration files that match these weights.',
    );
  }
  let values = await checkpoint.readFloat32(spec.source);
  if (spec.transform === 'transpose') {
    const [rows, cols] = shape;
    const out = new Float32Array(values.length);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let c = 0; c < cols; c++) out[c * rows + r] = values[base + c];
    }
    values = out;
  }
  if (spec.type === 'float16') {
    const half = float32ArrayToHalf(values);
    return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export async function writeGraph(
  graph: GraphBuilder,
  modelPath: string,
  weights: ExternalWeightsWriter,
  checkpoint: Checkpoint,
  signal?: AbortSignal,
): Promise<void> {
  const cache = new QuantCache();
  for (const spec of graph.weights) {
    if (weights.has(spec.name)) continue;
    signal?.throwIfAborted();
    weights.write(spec.name, await weightBytes(spec, checkpoint, cache));
  }
  fs.writeFileSync(
    modelPath,
    graph.toModelBytes((spec) => weights.locate(spec.name)),
  );
}
