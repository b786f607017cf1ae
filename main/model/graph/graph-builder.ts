// A small ONNX graph builder on onnx-proto. Model modules (main/model/g2vlm/*)
// describe a network with it; weights are registered by NAME only and their
// bytes are supplied later, tensor by tensor, by the converter, which writes
// them as external data (ORT maps external data by file path: see
// docs/onnx-runtime-notes.md §7). The builder itself never holds weight data.
import { onnx } from 'onnx-proto';

import type { QuantScheme } from './quantize';

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;
export type AttrValue =
  number | string | number[] | { floats: number[] } | { float: number } | { graph: GraphBuilder };

const DATA_TYPE: Record<TensorType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
};

/**
 * How the graph computes attention (graph/ops.ts `attention`):
 * - 'attention-op': the standard opset-23 `Attention` node (the CPU graphs;
 *   ORT's CPU kernel is the one whose parity and memory are measured);
 * - 'matmul-softmax': MatMul·scale → (+ causal bias) → Softmax → MatMul, ops the
 *   WebGPU provider has exact kernels for (ORT 1.30 has no WebGPU `Attention`,
 *   and its MultiHeadAttention/GroupQueryAttention are wrong on SwiftShader:
 *   docs/webgpu.md).
 */
export type AttentionForm = 'attention-op' | 'matmul-softmax';

export const MS_DOMAIN = 'com.microsoft';
/** The producer name of every graph G2 Studio writes (a derived file of ours is told from a user's by it). */
export const STUDIO_PRODUCER = 'g2studio';
export const DEFAULT_OPSET = 23;

/**
 * A weight the graph needs: `name` is the initializer name (the checkpoint
 * tensor name plus a transform suffix), `source` the checkpoint tensor and
 * `transform` how it is laid out for the graph (linear weights are stored
 * pre-transposed so the graph uses a plain MatMul).
 */
export interface WeightSpec {
  name: string;
  source: string;
  transform: 'none' | 'transpose';
  /** Shape of the initializer as the graph sees it (after the transform). */
  dims: number[];
  /** Storage type of the initializer. */
  type: 'float32' | 'float16' | 'uint8' | 'int8';
  /**
   * Set for a quantised linear weight (graph/quantize.ts): `source` is the
   * checkpoint's [out=N, in=K] matrix and this initializer is one part of its
   * quantised form.
   */
  quant?: { scheme: QuantScheme; part: 'data' | 'scales'; K: number; N: number };
}

export interface ExternalLocation {
  /** File name relative to the model file. */
  location: string;
  offset: number;
  length: number;
}

interface ValueInfo {
  name: string;
  type: TensorType;
  dims: Dim[] | null;
}

export class GraphBuilder {
  readonly name: string;
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly constants: onnx.ITensorProto[] = [];
  private readonly weightSpecs = new Map<string, WeightSpec>();
  private readonly usedNames = new Set<string>();
  private counter = 0;
  private usesMsDomain = false;
  /** Storage type of float weights ('float16' halves the weights file). */
  weightType: 'float32' | 'float16' = 'float32';
  /** How `attention` (graph/ops.ts) is written into this graph. */
  attentionForm: AttentionForm = 'attention-op';

  /** `namePrefix` keeps a subgraph's value names apart from its parent's (ONNX forbids shadowing). */
  constructor(
    name: string,
    private readonly namePrefix = '',
  ) {
    this.name = name;
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let candidate = `${this.namePrefix}${prefix}_${this.counter++}`;
    while (this.usedNames.has(candidate)) candidate = `${this.namePrefix}${prefix}_${this.counter++}`;
    this.usedNames.add(candidate);
    return candidate;
  }

  input(name: string, type: TensorType, dims: Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Exposes `value` as a graph output named `name` (an Identity when the names differ). */
  output(value: string, name: string = value, type: TensorType = 'float32'): string {
    if (value !== name) {
      this.usedNames.add(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` });
    }
    this.outputs.push({ name, type, dims: null });
    return name;
  }

  /** Adds a node; returns its output names. `outputs` is a count or explicit names. */
  node(
    opType: string,
    inputs: string[],
    opts: {
      outputs?: number | string[];
      attrs?: Record<string, AttrValue | undefined>;
      domain?: string;
    } = {},
  ): string[] {
    const outCount = opts.outputs ?? 1;
    const outNames =
      typeof outCount === 'number'
        ? Array.from({ length: outCount }, () => this.fresh(opType.toLowerCase()))
        : outCount.map((n) => (n === '' ? '' : (this.usedNames.add(n), n)));
    const attribute: onnx.IAttributeProto[] = [];
    for (const [key, value] of Object.entries(opts.attrs ?? {})) {
      if (value === undefined) continue;
      attribute.push(toAttribute(key, value));
    }
    if (opts.domain === MS_DOMAIN) this.usesMsDomain = true;
    this.nodes.push({
      opType,
      input: inputs,
      output: outNames,
      name: this.fresh(`n_${opType}`),
      domain: opts.domain ?? '',
      attribute,
    });
    return outNames;
  }

  /** Single-output node. */
  op(
    opType: string,
    inputs: string[],
    attrs?: Record<string, AttrValue | undefined>,
    domain?: string,
  ): string {
    return this.node(opType, inputs, { attrs, domain })[0];
  }

  constFloat(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const name = this.fresh('c');
    this.constants.push({ name, dims, dataType: DATA_TYPE.float32, floatData: Array.from(values) });
    return name;
  }

  constInt64(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const name = this.fresh('c');
    this.constants.push({ name, dims, dataType: DATA_TYPE.int64, int64Data: Array.from(values) });
    return name;
  }

  constScalar(value: number): string {
    return this.constFloat([value], []);
  }

  /**
   * A checkpoint weight. `dims` is the shape the graph sees. With
   * `transpose`, a [out, in] linear weight is stored as [in, out].
   * Registering the same weight twice returns the same initializer.
   */
  weight(source: string, dims: number[], transform: 'none' | 'transpose' = 'none'): string {
    const name = transform === 'transpose' ? `${source}::T` : source;
    const existing = this.weightSpecs.get(name);
    if (existing) {
      if (existing.dims.join(',') !== dims.join(',')) {
        throw new Error(`weight ${name} registered with two shapes: ${existing.dims} and ${dims}`);
      }
      return name;
    }
    this.usedNames.add(name);
    this.weightSpecs.set(name, { name, source, transform, dims, type: this.weightType });
    return name;
  }

  /** Weights whose storage is fp16 but whose consumers compute in fp32 go through this. */
  weightAsFloat32(source: string, dims: number[], transform: 'none' | 'transpose' = 'none'): string {
    const w = this.weight(source, dims, transform);
    return this.weightType === 'float16' ? this.op('Cast', [w], { to: DATA_TYPE.float32 }) : w;
  }

  get weights(): WeightSpec[] {
    return [...this.weightSpecs.values()];
  }

  /** The nodes in order (read-only view, for graph rewrites). */
  get nodeList(): readonly onnx.INodeProto[] {
    return this.nodes;
  }

  /** Replaces each node for which `rewrite` returns a node (same place, so the order stays topological). */
  rewriteNodes(rewrite: (node: onnx.INodeProto) => onnx.INodeProto | undefined): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const replacement = rewrite(this.nodes[i]);
      if (replacement) {
        this.nodes[i] = replacement;
        if (replacement.domain === MS_DOMAIN) this.usesMsDomain = true;
      }
    }
  }

  /** Adds a fully described weight (a graph rewrite's new initializer); the same name twice is one weight. */
  registerWeight(spec: WeightSpec): string {
    if (!this.weightSpecs.has(spec.name)) {
      this.usedNames.add(spec.name);
      this.weightSpecs.set(spec.name, spec);
    }
    return spec.name;
  }

  /**
   * Removes nodes whose outputs nobody reads (not graph outputs) and weights no
   * node reads, repeatedly (a Cast left behind by a rewrite, then its weight).
   * Subgraph bodies count as readers of the outer names they use.
   */
  pruneUnused(): void {
    for (;;) {
      const read = new Set<string>(this.outputs.map((o) => o.name));
      for (const node of this.nodes) collectReads(node, read);
      const before = this.nodes.length;
      const kept = this.nodes.filter((n) => (n.output ?? []).some((o) => o !== '' && read.has(o)));
      this.nodes.length = 0;
      this.nodes.push(...kept);
      if (kept.length === before) {
        for (const name of [...this.weightSpecs.keys()]) if (!read.has(name)) this.weightSpecs.delete(name);
        return;
      }
    }
  }

  private graphProto(initializer: onnx.ITensorProto[]): onnx.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer,
      input: this.inputs.map(valueInfo),
      output: this.outputs.map(valueInfo),
    };
  }

  /** This builder as a subgraph (Loop/If body): constants only, outer values referenced by name. */
  subgraphProto(): onnx.IGraphProto {
    return this.graphProto([...this.constants]);
  }

  /** Marks `name` (an outer-scope value a subgraph reads) as taken, so fresh names avoid it. */
  reserve(name: string): void {
    this.usedNames.add(name);
  }

  /** Serialises the model; `locate` gives each weight's place in the external data file. */
  toModelBytes(locate: (spec: WeightSpec) => ExternalLocation): Uint8Array {
    const initializer: onnx.ITensorProto[] = [...this.constants];
    for (const spec of this.weightSpecs.values()) {
      const where = locate(spec);
      initializer.push({
        name: spec.name,
        dims: spec.dims,
        dataType: DATA_TYPE[spec.type],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: where.location },
          { key: 'offset', value: String(where.offset) },
          { key: 'length', value: String(where.length) },
        ],
      });
    }
    const graph = this.graphProto(initializer);
    const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: DEFAULT_OPSET }];
    if (this.usesMsDomain) opsetImport.push({ domain: MS_DOMAIN, version: 1 });
    const model: onnx.IModelProto = {
      irVersion: 10,
      producerName: STUDIO_PRODUCER,
      producerVersion: '1',
      opsetImport,
      graph,
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function collectReads(node: onnx.INodeProto, into: Set<string>): void {
  for (const i of node.input ?? []) into.add(i);
  for (const a of node.attribute ?? []) for (const n of a.g?.node ?? []) collectReads(n, into);
}

function graphProtoOf(builder: GraphBuilder): onnx.IGraphProto {
  if (builder.weights.length > 0) throw new Error(`subgraph ${builder.name} may not own weights`);
  return builder.subgraphProto();
}

function valueInfo(v: ValueInfo): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: DATA_TYPE[v.type] };
  if (v.dims) {
    tensorType.shape = {
      dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
    };
  }
  return { name: v.name, type: { tensorType } };
}

function toAttribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { name, type: T.FLOAT, f: value };
    return { name, type: T.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  if ('graph' in value) return { name, type: T.GRAPH, g: graphProtoOf(value.graph) };
  return { name, type: T.FLOAT, f: value.float };
}

export const ONNX_DATA_TYPE = DATA_TYPE;
