// Runs the MoT LLM over blocks of rows with a KV cache (used by recon and by
// chat). Each `run` appends the block's K (after k-norm + RoPE) and V to the
// cache; the cache is the ORT `present_*` tensors of the previous run.
import { ort } from './ort';
import { cancelledError } from '../../common/errors';
import { llmInputNames, llmOutputNames } from '../g2vlm/llm';
import { mropeCosSin } from '../g2vlm/mrope';
import type { ModelManifest } from './model-manifest';
import { queryChunkRows } from './attention-budget';
import {
  combinedProvider,
  createGraphSession,
  fallbackReasons,
  floatTensor,
  int64Tensor,
  type ExecutionProviderChoice,
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

export class LlmRunner {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly embedSession: ort.InferenceSession,
    /** Undefined after releaseCausalSession() until the next causal run opens it again. */
    private causalSession: ort.InferenceSession | undefined,
    /** Opens the causal graph's session again (a mapping of the weights file, no copy: ~0.3 s). */
    private readonly openCausal: () => Promise<ort.InferenceSession>,
    private readonly blockSession: ort.InferenceSession,
    /** Absent for reconstruction, which never needs token logits (the LM head is vocab x hidden). */
    private readonly lmHeadSession: ort.InferenceSession | undefined,
    readonly executionProvider: string,
    /** Why graphs of the stack fell back to the CPU (empty when none did). */
    readonly providerNotes: string[] = [],
  ) {}

  static async load(
    modelDir: string,
    manifest: ModelManifest,
    ep: ExecutionProviderChoice = 'cpu',
    opts: { lmHead?: boolean } = {},
  ): Promise<LlmRunner> {
    const embed = await createGraphSession(modelDir, manifest, 'embed_tokens', ep);
    // Two graphs over the same layer weights (three with chat's decode graph):
    // share the mapped weights, with no per-session prepacked or float32 copy.
    const shared = { sharedWeights: true, castWeightsPerRun: manifest.dtype === 'fp16' };
    const causal = await createGraphSession(modelDir, manifest, 'llm_causal', ep, shared);
    const block = await createGraphSession(modelDir, manifest, 'llm_block', ep, shared);
    // The LM head's matrix is the decode graph's too.
    const lmHead =
      opts.lmHead === false
        ? undefined
        : await createGraphSession(modelDir, manifest, 'lm_head', ep, {
            castWeightsPerRun: manifest.dtype === 'fp16',
          });
    const loaded = lmHead ? [embed, causal, block, lmHead] : [embed, causal, block];
    return new LlmRunner(
      manifest,
      embed.session,
      causal.session,
      async () =>
        (await createGraphSession(modelDir, manifest, 'llm_causal', causal.executionProvider, shared))
          .session,
      block.session,
      lmHead?.session,
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
    if (!block.causal) {
      // Keep one attention block's scores (Hq × chunk × keys floats) under the budget.
      const keys = cache.length + L;
      const chunk = queryChunkRows(t.numHeads, keys);
      feeds[llmInputNames.queryChunk] = int64Tensor([Math.max(1, Math.min(L, opts.queryChunk ?? chunk))]);
    }
    const session = block.causal ? (this.causalSession ??= await this.openCausal()) : this.blockSession;
    const out = await session.run(feeds);
    for (let i = 0; i < t.numLayers; i++) {
      cache.keys[i] = out[llmOutputNames.presentKey(i)];
      cache.values[i] = out[llmOutputNames.presentValue(i)];
    }
    cache.length += L;
    return { hidden: out[llmOutputNames.hidden].data as Float32Array };
  }

  async logits(hiddenRows: Float32Array, rows: number): Promise<Float32Array> {
    if (!this.lmHeadSession) throw new Error('this LLM runner was loaded without the LM head');
    const out = await this.lmHeadSession.run({ hidden: floatTensor(hiddenRows, [rows, this.hiddenSize]) });
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

  /**
   * Closes the causal graph's session until it is needed again. Both LLM
   * sessions map the same weights file; each mapping counts in the process's
   * RSS (notes §7: RSS counts shared pages per mapping, PSS does not), so a
   * reconstruction, which needs the causal graph only for its 9 text tokens,
   * closes it before the geometry block: measured on the real architecture
   * (int8), the LLM's mapped pages counted 4.1 GiB with both open, for 3.0 GiB
   * of weights. GPU sessions hold device copies instead and stay open.
   */
  async releaseCausalSession(): Promise<void> {
    if (this.executionProvider !== 'cpu' || !this.causalSession) return;
    const session = this.causalSession;
    this.causalSession = undefined;
    await session.release();
  }

  async release(): Promise<void> {
    await this.embedSession.release();
    await this.causalSession?.release();
    await this.blockSession.release();
    await this.lmHeadSession?.release();
  }
}
