// Graphs a model folder gets on first use, built from its manifest's configs
// and pointed at the weights its converted graphs already reference (no weight
// is written twice): the chat's one-step decode graph and the one-graph LLM.
// Models converted before such a graph existed get it without converting again.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import type { ExternalLocation, GraphBuilder } from '../graph/graph-builder';
import { applyPrecision } from '../graph/quantize';
import type { ModelManifest } from './model-manifest';

/** Where every external initializer of the folder's graphs lives in the weights file. */
function externalLocations(modelDir: string, manifest: ModelManifest): Map<string, ExternalLocation> {
  const out = new Map<string, ExternalLocation>();
  for (const entry of Object.values(manifest.graphs)) {
    if (!entry) continue;
    const model = onnx.ModelProto.decode(fs.readFileSync(join(modelDir, entry.file)));
    for (const init of model.graph?.initializer ?? []) {
      if (!init.name || !init.externalData?.length) continue;
      const kv = new Map(init.externalData.map((e) => [e.key ?? '', e.value ?? '']));
      out.set(init.name, {
        location: kv.get('location') ?? '',
        offset: Number(kv.get('offset') ?? 0),
        length: Number(kv.get('length') ?? 0),
      });
    }
  }
  return out;
}

/**
 * The graph file `file` of a model folder, written on first use (atomically:
 * a temporary file renamed into place); undefined when it cannot be made — a
 * read-only folder, or a weight the folder's graphs do not hold.
 */
export function ensureDerivedGraph(
  modelDir: string,
  manifest: ModelManifest,
  file: string,
  build: () => GraphBuilder,
): string | undefined {
  const path = join(modelDir, file);
  if (fs.existsSync(path)) return path;
  try {
    const graph = build();
    applyPrecision(graph, manifest.dtype); // the same quantised initializers the converted graphs use
    const locations = externalLocations(modelDir, manifest);
    for (const spec of graph.weights) if (!locations.has(spec.name)) return undefined;
    const bytes = graph.toModelBytes((spec) => locations.get(spec.name) as ExternalLocation);
    const temp = `${path}.${process.pid}.tmp`;
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, path);
    return path;
  } catch {
    return undefined;
  }
}
