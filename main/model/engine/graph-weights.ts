// The initializers of a converted graph file as the memory estimates count
// them: the byte range each one is (of the external weights file, or inline),
// its length, and whether the graph only gathers rows from it. The CPU
// estimate (resident weight bytes, memory-estimate.ts) and the GPU estimate
// (device weight bytes, gpu-memory-estimate.ts) read the same graphs for one
// job: each file version is decoded once and its summary shared.
import { promises as fs } from 'node:fs';
import { onnx } from 'onnx-proto';

export interface GraphInitializer {
  name: string;
  /** `location@offset` for external data, `inline:name` for data in the graph file. */
  range: string;
  bytes: number;
  external: boolean;
  /** Input 0 of a Gather: a lookup table whose rows are paged in on demand (CPU). */
  gathered: boolean;
  /** Stored as fp16 (a session that widens it holds twice these bytes). */
  half: boolean;
}

/** Summaries kept (a model has 9 graphs and 7 WebGPU variants; a few models' worth). */
const CACHE_ENTRIES = 48;
const cache = new Map<string, GraphInitializer[]>();

function summarise(model: onnx.ModelProto): GraphInitializer[] {
  const gathered = new Set<string>();
  for (const node of model.graph?.node ?? [])
    if (node.opType === 'Gather') gathered.add(node.input?.[0] ?? '');
  return (model.graph?.initializer ?? []).map((init) => {
    const kv = new Map((init.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const external = kv.has('location');
    const name = init.name ?? '';
    return {
      name,
      range: external ? `${kv.get('location')}@${kv.get('offset') ?? 0}` : `inline:${name}`,
      bytes: external ? Number(kv.get('length') ?? 0) : (init.rawData?.length ?? 0),
      external,
      gathered: gathered.has(name),
      half: init.dataType === onnx.TensorProto.DataType.FLOAT16,
    };
  });
}

/** The initializers of the graph file at `path`; undefined when it is missing or unreadable. */
export async function graphInitializers(path: string): Promise<GraphInitializer[] | undefined> {
  let key: string;
  try {
    const stat = await fs.stat(path);
    key = `${path}|${stat.size}|${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
  const known = cache.get(key);
  if (known) {
    cache.delete(key);
    cache.set(key, known); // most recently used last
    return known;
  }
  let summary: GraphInitializer[];
  try {
    summary = summarise(onnx.ModelProto.decode(await fs.readFile(path)));
  } catch {
    return undefined;
  }
  cache.set(key, summary);
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return summary;
}
