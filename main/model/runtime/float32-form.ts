// fp16 models on the CPU run from a float32 form of their folder, widened once.
//
// Why: ONNX Runtime's CPU kernels compute in float32, so each fp16 weight sits
// behind a Cast. Folded at load, every session holds a private float32 copy;
// cast at every run instead, the casts' outputs live in the session's arena
// beside the mapped fp16 pages. Measured on the real architecture, 4 frames,
// both ways cost more than the fp32 model (17.0 and 16.9 GiB against 15.0;
// docs/precisions.md). A float32 copy on disk, mapped like an fp32 model's
// weights, costs exactly what fp32 costs in memory: one shared mapping, only
// the touched pages resident. It costs disk (twice the fp16 weights) and one
// streaming pass when first needed; a folder that cannot take it (read-only,
// too little free space) runs from the fp16 graphs and the run says why.
//
// The form is `<model>/float32-form/`: every graph of the folder with its fp16
// initializers turned into float32 ones (the Cast after each removed, its
// readers pointed at the initializer), all weights in its own weights.bin, and
// a manifest saying dtype fp32 and which conversion it was widened from. GPU
// sessions never use it: fp16 is their natural precision.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { DISK_HEADROOM_BYTES, freeDiskBytes } from '../download/disk-space';
import { halfToFloat32Array } from '../graph/half';
import { MODEL_MANIFEST_FILE, type GraphId, type ModelManifest } from './model-manifest';
import { FLOAT16_COMPUTE_ENV, float16ComputeOn } from './float16-compute-form';
import { autoProvider } from './provider-probe';
import type { ExecutionProviderChoice } from './session';

export const FLOAT32_FORM_DIR = 'float32-form';

const PAGE = 4096;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
/** Bytes of fp16 read per step while widening (the float32 chunk is twice this). */
const CHUNK_BYTES = 32 * 2 ** 20;

/** The manifest of a float32 form: an fp32 manifest that names the conversion it came from. */
export interface Float32FormManifest extends ModelManifest {
  float32FormOf: { id: string; created: string };
}

/** Where the CPU's sessions load their graphs from, and why the folder itself is used if it is. */
export interface GraphFolder {
  dir: string;
  manifest: ModelManifest;
  /** Set when an fp16 model runs from its fp16 graphs on the CPU after all. */
  note?: string;
}

/** One external tensor of the source weights file, as graphs reference it. */
interface SourceRange {
  offset: number;
  length: number;
  widen: boolean;
  /** Where it goes in the form's weights file. */
  target?: { offset: number; length: number };
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function externalField(tensor: onnx.ITensorProto, key: string): string | undefined {
  return tensor.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

/** Every graph in a model, its Loop/If bodies included. */
function allGraphs(graph: onnx.IGraphProto): onnx.IGraphProto[] {
  const out = [graph];
  for (const node of graph.node ?? []) {
    for (const attr of node.attribute ?? []) {
      if (attr.g) out.push(...allGraphs(attr.g));
      for (const g of attr.graphs ?? []) out.push(...allGraphs(g));
    }
  }
  return out;
}

/**
 * Rewrites one graph for float32 weights, in place: each fp16 external
 * initializer becomes float32, the Casts to float32 that read it go, and their
 * readers read the initializer. Returns undefined if an fp16 weight is read by
 * anything but such a Cast (then the form cannot be made this way).
 */
function widenGraph(
  model: onnx.ModelProto,
  weightsFile: string,
  ranges: Map<string, SourceRange>,
): true | undefined {
  const main = model.graph;
  if (!main) return undefined;
  const graphs = allGraphs(main);
  const half = new Set<string>();
  for (const init of main.initializer ?? []) {
    const location = externalField(init, 'location');
    if (location === undefined) {
      if (init.dataType === FLOAT16) return undefined; // an embedded fp16 tensor: not written by our converter
      continue;
    }
    if (location !== weightsFile) return undefined; // our converter writes one weights file
    const offset = Number(externalField(init, 'offset') ?? 0);
    const length = Number(externalField(init, 'length') ?? 0);
    const widen = init.dataType === FLOAT16;
    const key = `${offset}:${length}`;
    const known = ranges.get(key);
    if (known && known.widen !== widen) return undefined;
    if (!known) ranges.set(key, { offset, length, widen });
    if (widen) half.add(init.name ?? '');
  }
  // Every reader of an fp16 weight must be a Cast to float32; its output is renamed to the weight.
  const rename = new Map<string, string>();
  for (const graph of graphs) {
    for (const node of graph.node ?? []) {
      const source = node.input?.[0] ?? '';
      const to = Number(node.attribute?.find((a) => a.name === 'to')?.i ?? -1);
      if (node.opType === 'Cast' && half.has(source) && to === FLOAT)
        rename.set(node.output?.[0] ?? '', source);
      else if ((node.input ?? []).some((name) => half.has(name))) return undefined;
    }
    if ((graph.output ?? []).some((output) => half.has(output.name ?? ''))) return undefined;
  }
  for (const graph of graphs) {
    graph.node = (graph.node ?? []).filter(
      (node) => !(node.opType === 'Cast' && rename.has(node.output?.[0] ?? '')),
    );
    for (const node of graph.node) node.input = (node.input ?? []).map((name) => rename.get(name) ?? name);
    for (const output of graph.output ?? []) output.name = rename.get(output.name ?? '') ?? output.name;
  }
  return true;
}

/** Copies (or widens, fp16 → float32) one range of `source` into `target` at its offset. */
async function copyRange(
  source: fs.promises.FileHandle,
  target: fs.promises.FileHandle,
  range: SourceRange,
): Promise<void> {
  const at = range.target!.offset;
  // Its own ArrayBuffer (never the shared pool): offset 0, so the fp16 view below is aligned.
  const chunk = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, range.length));
  for (let done = 0; done < range.length;) {
    const size = Math.min(CHUNK_BYTES, range.length - done);
    const bytes = chunk.subarray(0, size);
    const { bytesRead } = await source.read(bytes, 0, size, range.offset + done);
    if (bytesRead !== size)
      throw new Error(`the weights file ended inside a tensor (offset ${range.offset + done})`);
    if (range.widen) {
      const floats = halfToFloat32Array(new Uint16Array(bytes.buffer, bytes.byteOffset, size / 2));
      await target.write(new Uint8Array(floats.buffer), 0, floats.byteLength, at + done * 2);
    } else {
      await target.write(bytes, 0, size, at + done);
    }
    done += size;
  }
}

function readForm(dir: string): Partial<Float32FormManifest> | undefined {
  try {
    return JSON.parse(
      fs.readFileSync(join(dir, MODEL_MANIFEST_FILE), 'utf8'),
    ) as Partial<Float32FormManifest>;
  } catch {
    return undefined;
  }
}

/** Temporary forms left by a process that died while writing one (up to twice the fp16 weights each). */
function removeAbandonedTemporaries(modelDir: string): void {
  const pattern = new RegExp(`^\\.${FLOAT32_FORM_DIR}\\.(\\d+)\\.tmp$`);
  for (const name of fs.readdirSync(modelDir)) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0); // still running: its writer may finish
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
        fs.rmSync(join(modelDir, name), { recursive: true, force: true });
      }
    }
  }
}

/** The float32 form's manifest, if `dir` holds a complete form of this very conversion. */
function existingForm(dir: string, manifest: ModelManifest): Float32FormManifest | undefined {
  const form = readForm(dir);
  const of = form?.float32FormOf;
  return of?.id === manifest.id && of.created === manifest.created
    ? (form as Float32FormManifest)
    : undefined;
}

/**
 * The folder whose graphs CPU sessions load for an fp16 model: its float32
 * form, widened on first use (`onProgress` gets 0..1 while it is written).
 * Any other precision, or a form that cannot be made, gives the folder itself.
 */
export async function cpuGraphFolder(
  modelDir: string,
  manifest: ModelManifest,
  onProgress?: (fraction: number) => void,
): Promise<GraphFolder> {
  if (manifest.dtype !== 'fp16') return { dir: modelDir, manifest };
  const dir = join(modelDir, FLOAT32_FORM_DIR);
  const ready = existingForm(dir, manifest);
  if (ready) return { dir, manifest: ready };
  if (fs.existsSync(dir) && !readForm(dir)?.float32FormOf) {
    return {
      dir: modelDir,
      manifest,
      note: `fp16 weights ran from their fp16 graphs on the CPU, which holds more memory than fp32: ${dir} exists and is not a float32 form, so it was left alone. Move it away to let the studio widen the weights there.`,
    };
  }

  const fallback = (why: string): GraphFolder => ({
    dir: modelDir,
    manifest,
    note: `fp16 weights ran from their fp16 graphs on the CPU, which holds more memory than fp32: ${why}`,
  });

  // Plan: every graph decoded and rewritten in memory (graph files are small), the weights to copy.
  const ranges = new Map<string, SourceRange>();
  const graphs: Array<[GraphId, string, onnx.ModelProto]> = [];
  for (const [id, entry] of Object.entries(manifest.graphs) as Array<[GraphId, { file: string }]>) {
    if (!entry) continue;
    const model = onnx.ModelProto.decode(fs.readFileSync(join(modelDir, entry.file)));
    if (!widenGraph(model, manifest.weightsFile, ranges))
      return fallback(`${entry.file} reads an fp16 weight other than through a Cast.`);
    graphs.push([id, entry.file, model]);
  }
  let position = 0;
  for (const range of [...ranges.values()].sort((a, b) => a.offset - b.offset)) {
    const offset = Math.ceil(position / PAGE) * PAGE;
    const length = range.widen ? range.length * 2 : range.length;
    range.target = { offset, length };
    position = offset + length;
  }
  const free = await freeDiskBytes(modelDir).catch(() => 0);
  if (free < position + DISK_HEADROOM_BYTES) {
    return fallback(
      `widening them once to float32 needs ${gib(position)} of disk beside the model and ${gib(free)} is free. ` +
        'Free disk space, or use the int8 model on a CPU.',
    );
  }

  // Written into a temporary folder of this process, renamed into place when complete.
  try {
    removeAbandonedTemporaries(modelDir);
  } catch {
    // A folder we cannot list or clean: the write below says so.
  }
  const temp = join(modelDir, `.${FLOAT32_FORM_DIR}.${process.pid}.tmp`);
  try {
    fs.rmSync(temp, { recursive: true, force: true });
    fs.mkdirSync(temp);
  } catch (error) {
    return fallback(
      `the model folder is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  try {
    const source = await fs.promises.open(join(modelDir, manifest.weightsFile), 'r');
    const target = await fs.promises.open(join(temp, manifest.weightsFile), 'w');
    try {
      const total = [...ranges.values()].reduce((sum, range) => sum + range.target!.length, 0);
      let written = 0;
      for (const range of ranges.values()) {
        await copyRange(source, target, range);
        written += range.target!.length;
        onProgress?.(written / total);
      }
      await target.sync();
    } finally {
      await source.close();
      await target.close();
    }
    for (const [, file, model] of graphs) {
      for (const init of model.graph?.initializer ?? []) {
        const location = externalField(init, 'location');
        if (location === undefined) continue;
        const range = ranges.get(
          `${externalField(init, 'offset') ?? 0}:${externalField(init, 'length') ?? 0}`,
        )!;
        if (init.dataType === FLOAT16) init.dataType = FLOAT;
        init.externalData = [
          { key: 'location', value: location },
          { key: 'offset', value: String(range.target!.offset) },
          { key: 'length', value: String(range.target!.length) },
        ];
      }
      fs.writeFileSync(join(temp, file), onnx.ModelProto.encode(model).finish());
    }
    const formManifest: Float32FormManifest = {
      ...manifest,
      dtype: 'fp32',
      // Only the standard graphs: the GPU never loads this form.
      graphs: Object.fromEntries(graphs.map(([id, file]) => [id, { file }])),
      weightsBytes: position,
      float32FormOf: { id: manifest.id, created: manifest.created },
    };
    fs.writeFileSync(join(temp, MODEL_MANIFEST_FILE), JSON.stringify(formManifest, null, 2));
    // A stale form (of an earlier conversion into this folder) is ours to replace; another
    // process that finished the same form first wins, and this copy is dropped. A folder
    // of that name that is not a form is left alone (the rename below then fails).
    if (fs.existsSync(dir) && !existingForm(dir, manifest) && readForm(dir)?.float32FormOf) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    try {
      fs.renameSync(temp, dir);
    } catch {
      const other = existingForm(dir, manifest);
      if (!other) throw new Error(`${dir} exists and is not a float32 form of this model`);
      fs.rmSync(temp, { recursive: true, force: true });
      return { dir, manifest: other };
    }
    return { dir, manifest: formManifest };
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    return fallback(`widening them to float32 failed (${(error as Error).message}).`);
  }
}

/** The folder the sessions of a job on `ep` load their graphs from (the float32 form for fp16 on the CPU). */
export async function graphFolderFor(
  modelDir: string,
  manifest: ModelManifest,
  ep: ExecutionProviderChoice,
  onProgress?: (fraction: number) => void,
): Promise<GraphFolder> {
  const target = ep === 'auto' ? (await autoProvider()).provider : ep;
  if (target === 'cpu' && manifest.dtype === 'fp16' && (await float16ComputeOn('cpu'))) {
    // The test setting that checks the GPU's fp16-compute forms on the CPU: they derive from the fp16 graphs.
    return {
      dir: modelDir,
      manifest,
      note: `fp16 ran its fp16-compute graphs on the CPU (${FLOAT16_COMPUTE_ENV}=cpu).`,
    };
  }
  return target === 'cpu' ? cpuGraphFolder(modelDir, manifest, onProgress) : { dir: modelDir, manifest };
}
