// Writes one graph: its weights (streamed from the checkpoint, one tensor at a
// time, laid out as the graph wants them) into the shared external-data file,
// then the model file pointing at them.
import * as fs from 'node:fs';
import { StudioError } from '../../common/errors';
import type { Checkpoint } from '../checkpoint/checkpoint';
import type { GraphBuilder, WeightSpec } from '../graph/graph-builder';
import type { ExternalWeightsWriter } from '../graph/external-weights';
import { float32ArrayToHalf } from '../graph/half';

/** The bytes of one initializer, transformed and cast as the spec asks. */
export async function weightBytes(spec: WeightSpec, checkpoint: Checkpoint): Promise<Uint8Array> {
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
  for (const spec of graph.weights) {
    if (weights.has(spec.name)) continue;
    signal?.throwIfAborted();
    weights.write(spec.name, await weightBytes(spec, checkpoint));
  }
  fs.writeFileSync(
    modelPath,
    graph.toModelBytes((spec) => weights.locate(spec.name)),
  );
}
