// fp16 models on a GPU with f16 shaders compute in fp16 (graph/float16-compute.ts).
//
// Without this, a WebGPU session of an fp16 graph folds each fp16 weight's
// Cast at load: the device holds float32 weights (fp32's device memory) and
// computes in float32. The fp16-compute form of each graph file is derived on
// first use beside it (`dino.webgpu.onnx` → `dino.webgpu.f16.onnx`, a graph
// proto of a few hundred kB reading the same weight ranges) and loaded instead,
// where the WebGPU adapter has `shader-f16` (provider-probe.ts). A form that
// cannot be written (read-only folder) or a session that fails on it leaves the
// graph computing in float32 on the GPU, and the run's notes say so.
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { Float16ComputeError, hasFloat16Weights, toFloat16Compute } from '../graph/float16-compute';
import { STUDIO_PRODUCER } from '../graph/graph-builder';
import { gpuProviderProbe } from './provider-probe';

/**
 * `off` keeps fp16 models computing in float32 on every GPU; `cpu` makes CPU
 * sessions load the fp16-compute forms too — for tests, where no adapter has
 * f16 shaders (SwiftShader): ORT's CPU provider then runs each fp16 node in
 * float32 between fp16 values. Unset: on for WebGPU adapters with shader-f16.
 */
export const FLOAT16_COMPUTE_ENV = 'G2STUDIO_FLOAT16_COMPUTE';

/** How a derived fp16-compute form's file name ends. */
export const FLOAT16_FORM_SUFFIX = '.f16.onnx';

/**
 * Whether sessions on `provider` load fp16-compute forms of fp16 graphs, given
 * whether the WebGPU adapter runs f16 shaders. CUDA keeps the widened graphs:
 * its fp16 path is not measured yet (no NVIDIA machine with the provider).
 */
export function float16ComputeFor(
  provider: 'cpu' | 'cuda' | 'webgpu',
  shaderF16: boolean | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const setting = env[FLOAT16_COMPUTE_ENV];
  if (setting === 'off') return false;
  if (setting === 'cpu') return provider === 'cpu';
  return provider === 'webgpu' && shaderF16 === true;
}

/** float16ComputeFor with this process's WebGPU probe (run once, only when WebGPU is the provider). */
export async function float16ComputeOn(
  provider: 'cpu' | 'cuda' | 'webgpu',
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const shaderF16 = provider === 'webgpu' ? (await gpuProviderProbe('webgpu')).shaderF16 : null;
  return float16ComputeFor(provider, shaderF16, env);
}

export interface Float16Form {
  /** The form to load; absent when the graph gains nothing (no fp16 weights) or it cannot be made. */
  path?: string;
  /** Why a graph with fp16 weights still computes in float32. */
  note?: string;
}

/** Graph files known to hold no fp16 weights (decoded once per process). */
const noHalfWeights = new Set<string>();

function formPath(graphFile: string): string {
  return graphFile.replace(/\.onnx$/, '') + FLOAT16_FORM_SUFFIX;
}

/** A graph file G2 Studio wrote (a stale form of ours may be replaced; anything else is the user's). */
function writtenByStudio(path: string): boolean {
  try {
    return onnx.ModelProto.decode(fs.readFileSync(path)).producerName === STUDIO_PRODUCER;
  } catch {
    return false;
  }
}

function newerOrSame(path: string, than: string): boolean {
  try {
    return fs.statSync(path).mtimeMs >= fs.statSync(than).mtimeMs;
  } catch {
    return false;
  }
}

/**
 * The fp16-compute form of `graphFile`, written on first use (a temporary
 * file renamed into place, so a reader never sees half a graph). A form older
 * than its graph (the folder was converted again) is written anew.
 */
export function float16ComputeForm(graphFile: string): Float16Form {
  if (graphFile.endsWith(FLOAT16_FORM_SUFFIX) || noHalfWeights.has(graphFile)) return {};
  const target = formPath(graphFile);
  const name = graphFile.split(/[\\/]/).pop();
  if (fs.existsSync(target) && !writtenByStudio(target)) {
    return {
      note: `${name} computes in float32 on the GPU: ${target} exists and G2 Studio did not write it, so it was left alone.`,
    };
  }
  if (newerOrSame(target, graphFile)) return { path: target };
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(graphFile));
  } catch (error) {
    return { note: `${name} could not be read for fp16 compute (${(error as Error).message}).` };
  }
  if (!hasFloat16Weights(model)) {
    noHalfWeights.add(graphFile);
    return {};
  }
  try {
    toFloat16Compute(model);
  } catch (error) {
    if (!(error instanceof Float16ComputeError)) throw error;
    return { note: `${name} computes in float32 on the GPU: ${error.message}.` };
  }
  const temp = `${target}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, onnx.ModelProto.encode(model).finish());
    fs.renameSync(temp, target);
  } catch (error) {
    try {
      fs.rmSync(temp, { force: true }); // our partial file; never a folder of that name
    } catch {
      // not a file this process wrote
    }
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return {
      note:
        `${name} computes in float32 on the GPU, holding its weights as float32: its fp16-compute form ` +
        `could not be written beside it (${code}). Make the model folder writable to halve that memory.`,
    };
  }
  return { path: target };
}

// fp16 can overflow where float32 does not (a trained network's outlier
// activations pass 65504; the residual stream is kept in float32 for that
// reason, a GEMM's output is not). A model whose sessions run fp16-compute
// forms checks its stages' outputs; a non-finite value makes the job run
// again with the folder's graphs in float32, for the rest of the process.

/** Model folders whose fp16 compute overflowed: their sessions load float32 graphs from then on. */
const overflowedFolders = new Set<string>();

/** Why a graph of an overflowed folder computes in float32, or undefined. */
export function float16OverflowNote(graphFile: string): string | undefined {
  return overflowedFolders.has(resolve(dirname(graphFile)))
    ? 'fp16 compute overflowed (values beyond ±65504) in an earlier run of this model, so its graphs compute in float32 on the GPU from then on.'
    : undefined;
}

/** A stage's output held Inf or NaN while its model computed in fp16. */
export class Float16OverflowError extends Error {
  constructor(readonly where: string) {
    super(`fp16 compute overflowed in ${where}.`);
  }
}

/** A loaded model: its folder, and whether any of its sessions runs an fp16-compute form. */
export interface Float16Checked {
  modelDir: string;
  computesInFloat16: boolean;
}

/** Throws Float16OverflowError when `values` hold Inf/NaN and the model computes in fp16. */
export function checkFloat16Output(model: Float16Checked, values: Float32Array, where: string): void {
  if (!model.computesInFloat16) return;
  for (let i = 0; i < values.length; i++) {
    // x − x is 0 for every finite x, NaN for ±Inf and NaN.
    if (values[i] - values[i] !== 0) throw new Float16OverflowError(where);
  }
}

/** Marks the folder as overflowed: sessions loaded from now on compute in float32. */
export function markFloat16Overflow(modelDir: string): void {
  overflowedFolders.add(resolve(modelDir));
}
