// The fp16-compute form of a graph whose weights are stored in fp16: for GPUs
// with f16 shaders (WebGPU's `shader-f16`), where the fp16 graphs as converted
// would widen every weight to float32 at load and compute in float32, holding
// twice the weights in device memory.
//
// The rewrite is mixed precision, chosen per node from the value types alone
// (so it applies to every graph the runtime loads, derived ones included):
// - GEMMs that read a weight (MatMul, Gemm, Conv) compute in fp16 straight from
//   the fp16 weights: the device holds each weight once, at half the bytes, and
//   the bulk of the FLOPs runs at fp16 rate;
// - precision-critical ops stay float32 ("fp32 accumulation where parity needs
//   it"): normalisations, Softmax, reductions, exp/log/pow/sqrt/div/trig, and
//   MatMuls of two activations (attention's Q·Kᵀ and P·V);
// - every other op computes in float32 when any of its float inputs is float32
//   (the residual stream, positions and angles, masks, the KV cache), else in
//   fp16 (a GEMM's bias, activation and gating);
// - graph inputs and outputs keep their float32 types: callers do not change.
// Casts go in where a value meets a node of the other precision; an inline
// constant is written in each precision it is read in (clamped to fp16's
// ±65504, so a -1e30 mask fill stays a very large negative number, not -inf).
import { onnx } from 'onnx-proto';
import { float32ToHalfBits } from './half';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT64 = onnx.TensorProto.DataType.INT64;
const BOOL = onnx.TensorProto.DataType.BOOL;
const HALF_MAX = 65504;

/** Ops computed in float32 whatever their inputs (cast up where needed). */
const FLOAT32_OPS = new Set([
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'RMSNormalization',
  'SimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'GroupNormalization',
  'InstanceNormalization',
  'ReduceMean',
  'ReduceSum',
  'ReduceSumSquare',
  'ReduceL2',
  'ReduceMax',
  'ReduceMin',
  'Exp',
  'Log',
  'Pow',
  'Sqrt',
  'Reciprocal',
  'Div',
  'Cos',
  'Sin',
  'Erf',
  'Attention',
]);
/** GEMMs: fp16 when one operand is a weight, float32 between two activations. */
const GEMM_OPS = new Set(['MatMul', 'Gemm', 'Conv']);
/** Ops that only move or view their input: a weight stays a weight through them. */
const VIEW_OPS = new Set(['Identity', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze', 'Slice', 'Cast']);
const COMPARISONS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual']);
const BOOL_OPS = new Set(['And', 'Or', 'Not', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

/** A value's type in the rewritten graph; `constant` is an inline float constant, written per use. */
type ValueType = number | 'constant';

export interface Float16ComputeSummary {
  /** Nodes computing in fp16, by op type. */
  float16: Record<string, number>;
  /** Float nodes computing in float32, by op type. */
  float32: Record<string, number>;
  /** Casts inserted between the two precisions. */
  casts: number;
  /** fp16 weights read directly (no longer widened). */
  weights: number;
}

/** Thrown when a graph holds something the rewrite does not know how to type. */
export class Float16ComputeError extends Error {}

interface Scope {
  types: Map<string, ValueType>;
  /** Values that are weights (fp16 initializers, or views of one). */
  weights: Set<string>;
  /** Inline float constants of this scope by name, for per-precision copies. */
  constants: Map<string, onnx.ITensorProto>;
  parent?: Scope;
}

function lookup(scope: Scope, name: string): ValueType | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const type = s.types.get(name);
    if (type !== undefined) return type;
  }
  return undefined;
}

function isWeight(scope: Scope, name: string): boolean {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.weights.has(name)) return true;
  return false;
}

function constantOf(scope: Scope, name: string): onnx.ITensorProto | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const tensor = s.constants.get(name);
    if (tensor) return tensor;
  }
  return undefined;
}

const isFloat = (type: ValueType | undefined): boolean =>
  type === FLOAT || type === FLOAT16 || type === 'constant';

function attrInt(node: onnx.INodeProto, name: string): number | undefined {
  const attr = node.attribute?.find((a) => a.name === name);
  return attr?.i === undefined || attr.i === null ? undefined : Number(attr.i);
}

function floatValues(tensor: onnx.ITensorProto): Float32Array {
  if (tensor.floatData?.length) return Float32Array.from(tensor.floatData);
  if (tensor.rawData?.length) {
    const raw = tensor.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return new Float32Array(0);
}

function halfConstant(tensor: onnx.ITensorProto, name: string): onnx.ITensorProto {
  const values = floatValues(tensor);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number.isNaN(values[i]) ? values[i] : Math.max(-HALF_MAX, Math.min(HALF_MAX, values[i]));
    bits[i] = float32ToHalfBits(v);
  }
  return { name, dims: tensor.dims, dataType: FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

class Rewriter {
  readonly summary: Float16ComputeSummary = { float16: {}, float32: {}, casts: 0, weights: 0 };
  private counter = 0;

  fresh(base: string, tag: string): string {
    return `${base}__${tag}${this.counter++}`;
  }

  /** A Cast node between the two precisions (counted in the summary). */
  cast(input: string, output: string, to: number): onnx.INodeProto {
    this.summary.casts++;
    return {
      opType: 'Cast',
      input: [input],
      output: [output],
      name: this.fresh('cast', 'n'),
      domain: '',
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }],
    };
  }

  count(precision: 'float16' | 'float32', op: string): void {
    const bucket = this.summary[precision];
    bucket[op] = (bucket[op] ?? 0) + 1;
  }

  /**
   * Rewrites `graph` in place and returns the types of its outputs. A main
   * graph keeps its declared output types (a Cast where a value is fp16); a
   * Loop `body` declares the types its values now have.
   */
  graph(graph: onnx.IGraphProto, parent: Scope | undefined, body: boolean): ValueType[] {
    const scope: Scope = { types: new Map(), weights: new Set(), constants: new Map(), parent };
    for (const input of graph.input ?? []) {
      const elemType = input.type?.tensorType?.elemType;
      if (elemType === undefined || elemType === null)
        throw new Float16ComputeError(`input ${input.name} has no tensor type`);
      scope.types.set(input.name ?? '', elemType);
    }
    const kept: onnx.ITensorProto[] = [];
    for (const init of graph.initializer ?? []) {
      const name = init.name ?? '';
      const external = (init.externalData?.length ?? 0) > 0;
      if (init.dataType === FLOAT && !external) {
        scope.types.set(name, 'constant');
        scope.constants.set(name, init);
      } else {
        scope.types.set(name, init.dataType ?? 0);
        if (external && init.dataType === FLOAT16) scope.weights.add(name);
      }
      kept.push(init);
    }
    const added: onnx.ITensorProto[] = [];
    const nodes: onnx.INodeProto[] = [];
    // One cast or constant copy per (value, precision) in this scope, reused by later readers.
    const converted = new Map<string, string>();

    const as = (name: string, want: number): string => {
      const type = lookup(scope, name);
      if (type === want) return name;
      const key = `${name}|${want}`;
      const known = converted.get(key);
      if (known) return known;
      let out: string;
      if (type === 'constant') {
        const constant = constantOf(scope, name)!;
        if (want === FLOAT) return name; // the float32 original
        out = this.fresh(name, 'f16c');
        added.push(halfConstant(constant, out));
      } else {
        out = this.fresh(name, want === FLOAT16 ? 'f16' : 'f32');
        nodes.push(this.cast(name, out, want));
      }
      scope.types.set(out, want);
      converted.set(key, out);
      return out;
    };

    for (const node of graph.node ?? []) {
      const op = node.opType ?? '';
      const inputs = node.input ?? [];
      const outputs = node.output ?? [];
      const inTypes = inputs.map((name) => (name === '' ? undefined : lookup(scope, name)));
      const floatInputs = inputs.map((name, i) => name !== '' && isFloat(inTypes[i]));
      const setOutputs = (type: ValueType): void => {
        for (const o of outputs) if (o !== '') scope.types.set(o, type);
      };

      if (op === 'Constant' || op === 'Resize') {
        // Neither appears in our graphs: a Constant node's type is in its attribute, Resize has float32-only inputs.
        throw new Float16ComputeError(`${op} is not supported by the fp16-compute rewrite`);
      }
      if (op === 'Loop' || op === 'If' || op === 'Scan') {
        if (op !== 'Loop')
          throw new Float16ComputeError(`${op} is not supported by the fp16-compute rewrite`);
        const loopBody = node.attribute?.find((a) => a.name === 'body')?.g;
        if (!loopBody) throw new Float16ComputeError('a Loop without a body');
        const carried = inputs.slice(2);
        const bodyInputs = loopBody.input ?? [];
        // Carried values keep the type they enter with; the body sees them so.
        carried.forEach((name, i) => {
          const type = lookup(scope, name);
          const declared = bodyInputs[i + 2]?.type?.tensorType;
          if (declared && typeof type === 'number') declared.elemType = type;
        });
        if (carried.some((name) => lookup(scope, name) === 'constant'))
          throw new Float16ComputeError('a Loop carrying an inline constant');
        const bodyTypes = this.graph(loopBody, scope, true);
        carried.forEach((name, i) => {
          if (bodyTypes[i + 1] !== lookup(scope, name))
            throw new Float16ComputeError(`a Loop whose carried value ${name} changes precision in its body`);
        });
        // Outputs: carried finals (the carried types), then scan outputs (the body's types).
        outputs.forEach((o, i) => {
          if (o === '') return;
          const type = i < carried.length ? lookup(scope, carried[i]) : bodyTypes[i + 1];
          scope.types.set(o, type ?? FLOAT);
        });
        nodes.push(node);
        continue;
      }

      if (op === 'Cast') {
        const to = attrInt(node, 'to');
        const source = inputs[0];
        if (to === FLOAT && floatInputs[0]) {
          // The widening of an fp16 weight (or a float value): the reader picks the precision.
          const type = inTypes[0]!;
          node.opType = 'Identity';
          node.attribute = [];
          if (type === 'constant') {
            // A constant keeps being a constant: readers get it in their precision.
            scope.constants.set(outputs[0], constantOf(scope, source)!);
            node.input = [source];
            scope.types.set(outputs[0], 'constant');
            // Identity of a float32 constant: valid; a reader in fp16 reads its own copy instead.
          } else {
            setOutputs(type);
            if (isWeight(scope, source)) {
              scope.weights.add(outputs[0]);
              this.summary.weights++;
            }
          }
          nodes.push(node);
          continue;
        }
        setOutputs(to ?? FLOAT);
        nodes.push(node);
        continue;
      }

      if (INT64_OPS.has(op)) {
        setOutputs(INT64);
        nodes.push(node);
        continue;
      }
      if (op === 'ConstantOfShape') {
        const value = node.attribute?.find((a) => a.name === 'value')?.t;
        setOutputs(value?.dataType ?? FLOAT);
        nodes.push(node);
        continue;
      }

      const anyFloat = floatInputs.some(Boolean);
      if (!anyFloat) {
        // Integer or boolean work (shape arithmetic, masks): untouched.
        const type =
          COMPARISONS.has(op) || BOOL_OPS.has(op) ? BOOL : (inTypes.find((t) => t !== undefined) ?? INT64);
        setOutputs(type);
        nodes.push(node);
        continue;
      }

      let compute: number;
      if (FLOAT32_OPS.has(op)) compute = FLOAT;
      else if (GEMM_OPS.has(op))
        compute = inputs.some((name, i) => floatInputs[i] && isWeight(scope, name)) ? FLOAT16 : FLOAT;
      else {
        // float32 when any computed float input is float32 (or only constants feed it), else fp16.
        const computed = inTypes.filter((t, i) => floatInputs[i] && t !== 'constant');
        compute = computed.length === 0 || computed.includes(FLOAT) ? FLOAT : FLOAT16;
      }
      node.input = inputs.map((name, i) => (floatInputs[i] ? as(name, compute) : name));
      this.count(compute === FLOAT16 ? 'float16' : 'float32', op);
      setOutputs(COMPARISONS.has(op) || BOOL_OPS.has(op) ? BOOL : compute);
      if (VIEW_OPS.has(op) && isWeight(scope, inputs[0])) for (const o of outputs) scope.weights.add(o);
      nodes.push(node);
    }

    // Outputs: a main graph keeps its declared float32 outputs (a Cast at the end);
    // a body declares what it now produces.
    const outputTypes: ValueType[] = [];
    const renames = new Map<string, string>();
    for (const output of graph.output ?? []) {
      const name = output.name ?? '';
      const type = lookup(scope, name);
      const tensorType = output.type?.tensorType;
      if (body || !tensorType || tensorType.elemType !== FLOAT || type === FLOAT) {
        // An inline constant as an output is its float32 original.
        const produced = type === 'constant' || type === undefined ? FLOAT : type;
        if (tensorType && body) tensorType.elemType = produced;
        outputTypes.push(produced);
        continue;
      }
      if (type === 'constant') throw new Float16ComputeError(`output ${name} is an inline constant`);
      // Produce the fp16 value under another name and cast it to the output's name.
      const inner = this.fresh(name, 'f16out');
      renames.set(name, inner);
      outputTypes.push(FLOAT);
    }
    if (renames.size > 0) {
      for (const node of nodes) {
        node.output = (node.output ?? []).map((o) => renames.get(o) ?? o);
        renameReads(node, renames);
      }
      for (const [name, inner] of renames) nodes.push(this.cast(inner, name, FLOAT));
    }
    graph.node = nodes;
    graph.initializer = [...kept, ...added];
    return outputTypes;
  }
}

/** Renames the values `node` (and any subgraph of it) reads. */
function renameReads(node: onnx.INodeProto, renames: Map<string, string>): void {
  node.input = (node.input ?? []).map((i) => renames.get(i) ?? i);
  for (const attr of node.attribute ?? [])
    for (const inner of attr.g?.node ?? []) renameReads(inner, renames);
}

/**
 * Rewrites `model` in place into its fp16-compute form (see the top of this
 * file). Throws Float16ComputeError where a graph holds control flow or values
 * the rewrite cannot type; the caller then keeps the graph as it was.
 */
export function toFloat16Compute(model: onnx.IModelProto): Float16ComputeSummary {
  if (!model.graph) throw new Float16ComputeError('the model has no graph');
  const rewriter = new Rewriter();
  rewriter.graph(model.graph, undefined, false);
  return rewriter.summary;
}

/** Whether a graph reads fp16 weights from its external data (only those gain from the rewrite). */
export function hasFloat16Weights(model: onnx.IModelProto): boolean {
  return (model.graph?.initializer ?? []).some(
    (init) => init.dataType === FLOAT16 && (init.externalData?.length ?? 0) > 0,
  );
}
