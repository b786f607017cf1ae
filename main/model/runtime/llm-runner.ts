// Runs the MoT LLM over blocks of rows with a KV cache (used by recon and by
// chat). Each `run` appends the block's K (after k-norm + RoPE) and V to the
// cache; the cache is the ORT `present_*` tensors of the previous run.
import { ort } from './ort';
import { cancelledError } from '../../common/errors';
import { buildLlmGraph, llmInputNames, llmOutputNames } from '../g2vlm/llm';
import type { AttentionForm } from '../graph/graph-builder';
import { autoProvider } from './provider-probe';
import { ensureDerivedGraph } from './derived-graph';
import { mropeCosSin } from '../g2vlm/mrope';
import { webgpuFormsWanted, type ModelManifest } from './model-manifest';
import { queryChunkRows } from './attention-budget';
import { SharedWeightSessions } from './shared-weight-sessions';
import {
  combinedProvider,
  createGraphSession,
  createSessionOn,
  fallbackReasons,
  floatTensor,
  int64Tensor,
  type ExecutionProviderChoice,
  type LoadedSession,
  type SessionTuning,
} from './session';

export interface KvCache {
  keys: ort.Tensor[];
  values: ort.Tensor[];
  length: number;
}

export interface LlmBlock {
  /** L×D input embeddings. */
  embeds: Float32Array;
  /** 3×L row-major: t row, h row, w row. */
  positions: Int32Array;
  /** Rows (within the block) that use the geo expert; the rest use und. */
  geoRows?: Int32Array;
  causal: boolean;
}

/**
 * Session settings for the graphs that read the LLM layers. Float weights
 * (fp32, fp16) stay in the mapped weights file, shared by every such session
 * (no prepacked copies; fp16 cast per run). Quantised weights are prepacked:
 * without it ORT's MatMulNBits dequantises every matrix of both experts at
 * every run — measured on the real architecture (int8, 2 cores), 41-56 s for
 * one decode step against 0.16-0.22 s prepacked (a one-time 28 s and the
 * packed copy, 3.1 GiB for both experts, in the session).
 */
export function layerSessionTuning(manifest: ModelManifest): SessionTuning {
  const quantised = manifest.dtype === 'int8' || manifest.dtype === 'int4';
  return { sharedWeights: !quantised, castWeightsPerRun: manifest.dtype === 'fp16' };
}

/** The one-graph LLM (causal or not by an input), derived on first use from the folder's graphs. */
export const ONE_LLM_GRAPH_FILE = 'llm_one.onnx';
/** Its WebGPU form: attention as MatMul/Softmax (graph-builder.ts AttentionForm). */
export const ONE_LLM_WEBGPU_GRAPH_FILE = 'llm_one.webgpu.onnx';

export class LlmRunner {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly embedSession: ort.InferenceSession,
    /**
     * The graphs that read the LLM layers: the one-graph LLM (or, in a folder
     * that cannot hold it, the causal and non-causal graphs) and the chat's
     * decode graph, which joins them. With mapped float weights on the CPU one
     * of them is open at a time, so the layers are mapped once
     * (shared-weight-sessions.ts).
     */
    readonly layerSessions: SharedWeightSessions,
    /** True: every block runs through llm_one with its `causal` input. */
    private readonly oneGraph: boolean,
    /**
     * Opens the LM head on first use; absent for reconstruction, which never needs token
     * logits. Chat's decode graph carries its own LM head, so with it this session never
     * opens — quantised, it would pack another vocab × hidden copy (~0.2 GiB in int8).
     */
    private readonly openLmHead: (() => Promise<LoadedSession>) | undefined,
    readonly executionProvider: string,
    /** Why graphs of the stack fell back to the CPU (empty when none did). */
    readonly providerNotes: string[] = [],
  ) {}

  static async load(
    modelDir: string,
    manifest: ModelManifest,
    ep: ExecutionProviderChoice = 'cpu',
    opts: {
      lmHead?: boolean;
      /** Use the converted causal and non-causal graphs even where the one-graph LLM can be made (tests). */
      twoGraphs?: boolean;
      /** Keep every layer session open together (GPU behaviour; tests use it as the control). */
      keepLayerSessionsOpen?: boolean;
      /** The one graph's attention form regardless of the provider (tests run the WebGPU form on the CPU). */
      attentionForm?: AttentionForm;
    } = {},
  ): Promise<LlmRunner> {
    const embed = await createGraphSession(modelDir, manifest, 'embed_tokens', ep);
    const tuning = layerSessionTuning(manifest);
    const target = ep === 'auto' ? (await autoProvider()).provider : ep;
    const derive = (file: string, attentionForm: AttentionForm) =>
      ensureDerivedGraph(modelDir, manifest, file, () =>
        buildLlmGraph(manifest.configs, {
          causal: 'input',
          weightType: manifest.dtype === 'fp16' ? 'float16' : 'float32',
          attentionForm,
        }),
      );
    const onePath = opts.twoGraphs
      ? undefined
      : opts.attentionForm === 'matmul-softmax'
        ? derive(ONE_LLM_WEBGPU_GRAPH_FILE, 'matmul-softmax')
        : derive(ONE_LLM_GRAPH_FILE, 'attention-op');
    // WebGPU sessions load the MatMul/Softmax form (no CPU-placed Attention nodes).
    const oneGpuPath =
      onePath && target === 'webgpu' && webgpuFormsWanted() && !opts.attentionForm
        ? derive(ONE_LLM_WEBGPU_GRAPH_FILE, 'matmul-softmax')
        : undefined;
    const first = onePath
      ? await createSessionOn(oneGpuPath ?? onePath, target, tuning, ep === 'auto', onePath)
      : await createGraphSession(modelDir, manifest, 'llm_causal', ep, tuning);
    // The provider the first graph really got decides: a GPU that fell back runs on the CPU.
    // CPU, mapped float weights: one session open at a time. Prepacked (quantised) copies
    // belong to their session, and a reopen would pack again: they stay open — except the
    // two-graph fallback's, which would hold both experts twice. GPU: every session uploads
    // its own copy of the layers it reads and device memory is the scarce one, so one at a
    // time there too (chat: the one-graph LLM for a new prefix, the decode graph for the
    // questions; a switch uploads again).
    const onCpu = first.executionProvider === 'cpu';
    const exclusive = !opts.keepLayerSessionsOpen && (!onCpu || tuning.sharedWeights === true || !onePath);
    const layerSessions = new SharedWeightSessions(exclusive);
    const loaded = [embed, first];
    if (onePath) {
      const path = first.executionProvider === 'webgpu' && oneGpuPath ? oneGpuPath : onePath;
      await layerSessions.add('one', () => createSessionOn(path, first.executionProvider, tuning), first);
    } else {
      const reopen = (id: 'llm_causal' | 'llm_block') => () =>
        createGraphSession(modelDir, manifest, id, first.executionProvider, tuning);
      await layerSessions.add('causal', reopen('llm_causal'), first);
      loaded.push(await layerSessions.add('block', reopen('llm_block')));
    }
    const openLmHead =
      opts.lmHead === false
        ? undefined
        : () =>
            createGraphSession(modelDir, manifest, 'lm_head', first.executionProvider, {
              castWeightsPerRun: manifest.dtype === 'fp16',
            });
    return new LlmRunner(
      manifest,
      embed.session,
      layerSessions,
      onePath !== undefined,
      openLmHead,
      combinedProvider(loaded),
      fallbackReasons(loaded),
    );
  }

  get hiddenSize(): number {
    return this.manifest.configs.text.hiddenSize;
  }

  get vocabSize(): number {
    return this.manifest.configs.text.vocabSize;
  }

  newCache(): KvCache {
    const t = this.manifest.configs.text;
    const empty = (): ort.Tensor => floatTensor(new Float32Array(0), [1, t.numKvHeads, 0, t.headDim]);
    return {
      keys: Array.from({ length: t.numLayers }, empty),
      values: Array.from({ length: t.numLayers }, empty),
      length: 0,
    };
  }

  cacheLength(cache: KvCache): number {
    return cache.length;
  }

  async embedTokens(ids: number[]): Promise<Float32Array> {
    const out = await this.embedSession.run({ input_ids: int64Tensor(ids) });
    return out.inputs_embeds.data as Float32Array;
  }

  async run(
    cache: KvCache,
    block: LlmBlock,
    opts: {
      signal?: AbortSignal;
      /** Queries per attention block (non-causal); default from the memory budget. */ queryChunk?: number;
    } = {},
  ): Promise<{ hidden: Float32Array }> {
    if (opts.signal?.aborted) throw cancelledError('The model run');
    const t = this.manifest.configs.text;
    const D = t.hiddenSize;
    const L = block.embeds.length / D;
    if (!Number.isInteger(L) || block.positions.length !== 3 * L) {
      throw new Error(
        `LLM block: ${block.embeds.length} embedding values and ${block.positions.length} positions do not describe L×${D} rows`,
      );
    }
    const isGeo = new Uint8Array(L);
    for (const r of block.geoRows ?? []) isGeo[r] = 1;
    const geo: number[] = [];
    const und: number[] = [];
    for (let r = 0; r < L; r++) (isGeo[r] ? geo : und).push(r);
    const { cos, sin } = mropeCosSin(block.positions, L, t.headDim, t.ropeTheta);
    const feeds: Record<string, ort.Tensor> = {
      [llmInputNames.embeds]: floatTensor(block.embeds, [L, D]),
      [llmInputNames.cos]: floatTensor(cos, [1, L, t.headDim / 2]),
      [llmInputNames.sin]: floatTensor(sin, [1, L, t.headDim / 2]),
      [llmInputNames.geoRows]: int64Tensor(geo),
      [llmInputNames.undRows]: int64Tensor(und),
    };
    for (let i = 0; i < t.numLayers; i++) {
      feeds[llmInputNames.pastKey(i)] = cache.keys[i];
      feeds[llmInputNames.pastValue(i)] = cache.values[i];
    }
    if (this.oneGraph || !block.causal) {
      // Keep one attention block's scores (Hq × chunk × keys floats) under the budget.
      const keys = cache.length + L;
      const chunk = queryChunkRows(t.numHeads, keys);
      feeds[llmInputNames.queryChunk] = int64Tensor([Math.max(1, Math.min(L, opts.queryChunk ?? chunk))]);
    }
    if (this.oneGraph) feeds[llmInputNames.causal] = int64Tensor([block.causal ? 1 : 0]);
    const graph = this.oneGraph ? 'one' : block.causal ? 'causal' : 'block';
    const out = await this.layerSessions.run(graph, (session) => session.run(feeds));
    for (let i = 0; i < t.numLayers; i++) {
      cache.keys[i] = out[llmOutputNames.presentKey(i)];
      cache.values[i] = out[llmOutputNames.presentValue(i)];
    }
    cache.length += L;
    return { hidden: out[llmOutputNames.hidden].data as Float32Array };
  }

  private lmHead: Promise<ort.InferenceSession> | undefined;

  /** Whether the LM head's session has been opened (the chat's decode graph never needs it). */
  get lmHeadOpened(): boolean {
    return this.lmHead !== undefined;
  }

  async logits(hiddenRows: Float32Array, rows: number): Promise<Float32Array> {
    if (!this.openLmHead) throw new Error('this LLM runner was loaded without the LM head');
    this.lmHead ??= this.openLmHead().then((loaded) => loaded.session);
    const session = await this.lmHead;
    const out = await session.run({ hidden: floatTensor(hiddenRows, [rows, this.hiddenSize]) });
    return out.logits.data as Float32Array;
  }

  /** Layer `layer`'s cached keys or values as (length, Hk, hd), sequence order. */
  cacheRows(cache: KvCache, layer: number, which: 'keys' | 'values'): Float32Array {
    const t = this.manifest.configs.text;
    const tensor = cache[which][layer];
    const data = tensor.data as Float32Array;
    const T = cache.length;
    const Hk = t.numKvHeads;
    const hd = t.headDim;
    const out = new Float32Array(T * Hk * hd);
    for (let h = 0; h < Hk; h++) {
      for (let r = 0; r < T; r++)
        out.set(data.subarray((h * T + r) * hd, (h * T + r + 1) * hd), (r * Hk + h) * hd);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.embedSession.release();
    await this.layerSessions.release();
    await (await this.lmHead?.catch(() => undefined))?.release();
  }
}
