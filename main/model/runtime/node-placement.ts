// Which nodes of a graph ONNX Runtime runs on the CPU when the session asked
// for a GPU provider. A GPU provider takes the nodes it has kernels for; the
// rest (ops it lacks, e.g. the standard Attention on WebGPU in ORT 1.30, and
// int64 shape arithmetic, which WebGPU does not do and ORT keeps on the CPU
// by design) run on the CPU with copies between the two. Runs report the count
// per graph (docs/webgpu-notes.md), so "webgpu" never hides CPU work.
//
// How it is found: the GPU session profiles its FIRST run only (ORT's profile
// names the provider of every node it ran, Loop bodies included), then stops
// profiling; the profile file is read and deleted. No second session, no log
// parsing in the running process (ORT's logs go to the process's stderr).
// ORT's verbose session log says the same at session creation
// ("Node(s) placed on [CPUExecutionProvider]"): parseVerbosePlacement reads it
// for the placement check that runs in a child process (tests, docs).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import type { ort } from './ort';
import { WEBGPU_VARIANT_SUFFIX, webgpuFormsWanted } from './model-manifest';
import { FLOAT16_FORM_SUFFIX } from './float16-compute-form';

/** Where one graph's nodes ran. */
export interface NodePlacement {
  /** Nodes the CPU provider ran (copies between devices not counted). */
  cpuNodes: number;
  /** Those nodes by op type. */
  cpuOps: Record<string, number>;
  /** Nodes the GPU provider ran (copies not counted). */
  gpuNodes: number;
}

const COPY_OPS = new Set(['MemcpyToHost', 'MemcpyFromHost']);

function placementOf(nodes: Array<{ op: string; cpu: boolean }>): NodePlacement {
  const cpuOps: Record<string, number> = {};
  let gpuNodes = 0;
  for (const node of nodes) {
    if (COPY_OPS.has(node.op)) continue;
    if (node.cpu) cpuOps[node.op] = (cpuOps[node.op] ?? 0) + 1;
    else gpuNodes++;
  }
  const cpuNodes = Object.values(cpuOps).reduce((a, b) => a + b, 0);
  return { cpuNodes, cpuOps: sortedCounts(cpuOps), gpuNodes };
}

function sortedCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** Reads an ORT profile (Chrome trace JSON): each node once, with the provider that ran it. */
export function placementFromProfile(events: unknown): NodePlacement {
  const nodes = new Map<string, { op: string; cpu: boolean }>();
  for (const event of Array.isArray(events) ? (events as unknown[]) : []) {
    const e = event as { cat?: unknown; name?: unknown; args?: { op_name?: unknown; provider?: unknown } };
    if (e.cat !== 'Node' || typeof e.name !== 'string' || typeof e.args?.provider !== 'string') continue;
    const name = e.name.replace(/_(kernel_time|fence_before|fence_after)$/, '');
    const op = typeof e.args.op_name === 'string' ? e.args.op_name : name;
    nodes.set(name, { op, cpu: e.args.provider === 'CPUExecutionProvider' });
  }
  return placementOf([...nodes.values()]);
}

/**
 * Reads ORT's verbose "Node placements" block (logSeverityLevel 0):
 * " Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2" followed by
 * "   Attention (n_Attention_134)" lines, or "All nodes placed on [X]. Number of nodes: N".
 * Subgraphs (Loop bodies) have blocks of their own; all are summed.
 */
export function parseVerbosePlacement(log: string): NodePlacement {
  const nodes: Array<{ op: string; cpu: boolean }> = [];
  let current: boolean | undefined;
  for (const line of log.split('\n')) {
    const header = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (header) {
      current = header[2] === 'CPUExecutionProvider';
      // "All nodes" lists no names: count them as anonymous nodes of that provider.
      if (header[1] === 'All nodes') {
        for (let i = 0; i < Number(header[3]); i++) nodes.push({ op: '(unnamed)', cpu: current });
        current = undefined;
      }
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s{3,}(\S+) \(/.exec(line);
    if (node && current !== undefined) nodes.push({ op: node[1], cpu: current });
    else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = undefined;
  }
  return placementOf(nodes);
}

/** What the GPU sessions of this process did with each graph file (the same file places the same way). */
const placements = new Map<string, NodePlacement>();

/** Session options that profile a GPU session, and the hook that reads its first run. */
export interface PlacementProfiling {
  options: Pick<ort.InferenceSession.SessionOptions, 'enableProfiling' | 'profileFilePrefix'>;
  /** Call with the created session: reads the placement after its first run. */
  attach(session: ort.InferenceSession): void;
  /** Call when the session could not be created. */
  discard(): void;
}

/**
 * Profiling for a GPU session over a graph file (undefined for the CPU and for
 * in-memory graphs, which are probes and tests).
 */
export function placementProfiling(
  model: string | Uint8Array,
  provider: string,
): PlacementProfiling | undefined {
  if (provider === 'cpu' || typeof model !== 'string') return undefined;
  const graph = resolve(model);
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'g2-placement-'));
  const clean = (): void => fs.rmSync(dir, { recursive: true, force: true });
  return {
    options: { enableProfiling: true, profileFilePrefix: join(dir, 'profile') },
    discard: clean,
    attach(session) {
      const run = session.run.bind(session);
      const release = session.release.bind(session);
      let profiling = true;
      const finish = (): void => {
        if (!profiling) return;
        profiling = false;
        try {
          session.endProfiling();
          for (const file of fs.readdirSync(dir)) {
            placements.set(graph, placementFromProfile(JSON.parse(fs.readFileSync(join(dir, file), 'utf8'))));
          }
        } catch {
          // A profile that cannot be read leaves the graph unreported, never the run failed.
        } finally {
          clean();
        }
      };
      const runOnce = (async (...args: Parameters<typeof run>) => {
        // Profiling stops after the first run, even one that failed (cancel, out of memory).
        try {
          return await run(...args);
        } finally {
          finish();
        }
      }) as typeof session.run;
      Object.defineProperty(session, 'run', { value: runOnce, configurable: true, writable: true });
      Object.defineProperty(session, 'release', {
        value: async () => {
          await release();
          clean();
        },
        configurable: true,
        writable: true,
      });
    },
  };
}

/** The placement of a graph file's GPU session in this process (after its first run), or undefined. */
export function placementOfGraph(graphPath: string): NodePlacement | undefined {
  return placements.get(resolve(graphPath));
}

/** The graph a file of a model folder is a form of: `dino.webgpu.onnx` and `dino.webgpu.f16.onnx` are `dino`. */
export function graphIdOfFile(file: string): string {
  const graphFile = file.endsWith(FLOAT16_FORM_SUFFIX)
    ? `${file.slice(0, -FLOAT16_FORM_SUFFIX.length)}.onnx`
    : file;
  return graphFile.endsWith(WEBGPU_VARIANT_SUFFIX)
    ? graphFile.slice(0, -WEBGPU_VARIANT_SUFFIX.length)
    : graphFile.replace(/\.onnx$/, '');
}

/**
 * CPU node counts and op counts of the graphs of a model folder that ran on a
 * GPU provider in this process, by graph id (file name without .onnx; a
 * WebGPU variant counts under its graph's id).
 */
export function cpuNodesOfModel(
  modelDir: string,
  /** Only these graphs (a recon and a chat in the same process load different ones). */
  include: (graphId: string) => boolean = () => true,
): {
  cpuNodes: Record<string, number>;
  cpuNodeOps: Record<string, Record<string, number>>;
} {
  const dir = resolve(modelDir);
  const cpuNodes: Record<string, number> = {};
  const cpuNodeOps: Record<string, Record<string, number>> = {};
  for (const [path, placement] of [...placements].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (!path.startsWith(`${dir}/`) && !path.startsWith(`${dir}\\`)) continue;
    const id = graphIdOfFile(path.slice(dir.length + 1));
    if (!include(id)) continue;
    cpuNodes[id] = placement.cpuNodes;
    cpuNodeOps[id] = placement.cpuOps;
  }
  return { cpuNodes, cpuNodeOps };
}

/** One plain line: "7 nodes run on the CPU: llm_block 5 (Slice 3, Concat 2), dino 2 (Concat 2)", or undefined. */
export function cpuNodesLine(
  provider: string,
  report: { cpuNodes: Record<string, number>; cpuNodeOps?: Record<string, Record<string, number>> },
): string | undefined {
  const graphs = Object.entries(report.cpuNodes);
  if (graphs.length === 0) return undefined;
  const total = graphs.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return `Every node of the ${graphs.length} graphs ran on ${provider}.`;
  const parts = graphs
    .filter(([, n]) => n > 0)
    .map(([id, n]) => {
      const ops = Object.entries(report.cpuNodeOps?.[id] ?? {})
        .map(([op, k]) => `${op} ${k}`)
        .join(', ');
      return ops ? `${id} ${n} (${ops})` : `${id} ${n}`;
    });
  const line = `${total} nodes ran on the CPU instead of ${provider}: ${parts.join('; ')}.`;
  // Only the standard graphs hold an Attention node: a model converted before the WebGPU variants.
  const standardAttention = graphs.some(([id]) => (report.cpuNodeOps?.[id]?.Attention ?? 0) > 0);
  if (!standardAttention || !provider.split('+').includes('webgpu')) return line;
  // On a software adapter the standard graphs run on purpose (model-manifest.ts webgpuFormsWanted).
  return `${line} ${webgpuFormsWanted() ? STALE_WEBGPU_GRAPHS_HINT : SOFTWARE_ADAPTER_ATTENTION_NOTE}`;
}

/** What the CPU-node line adds when a WebGPU run used graphs converted before the WebGPU variants. */
export const SOFTWARE_ADAPTER_ATTENTION_NOTE =
  'Attention ran on the CPU on purpose: the WebGPU adapter is a software renderer, where the CPU computes attention faster.';
export const STALE_WEBGPU_GRAPHS_HINT =
  'Attention ran on the CPU because this model was converted before G2 Studio wrote WebGPU graphs: convert the checkpoint again (g2studio model convert) to run it on the GPU.';
