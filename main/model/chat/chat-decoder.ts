// Runs the single-step decode graph (decode-graph.ts) over a KV cache held in
// fixed-capacity buffers: per step one session run (embedding → layers → LM
// head), the cache read in place, and only the new token's K/V rows written
// back. The graph shares the converted model's weights file: when the model
// folder has no decode graph yet, it is built once from the model's config and
// the weight locations recorded in the folder's other graphs, and saved beside
// them (`chat_decode.v2.onnx`).
import * as ort from 'onnxruntime-node';
import { mropeCosSin } from '../g2vlm/mrope';
import { ensureDerivedGraph } from '../runtime/derived-graph';
import { layerSessionTuning, type KvCache } from '../runtime/llm-runner';
import type { ModelManifest } from '../runtime/model-manifest';
import type { SharedWeightSessions } from '../runtime/shared-weight-sessions';
import {
  createSession,
  floatTensor,
  int64Tensor,
  type ExecutionProviderChoice,
  type LoadedSession,
} from '../runtime/session';
import { buildChatDecodeGraph, decodeInputNames, decodeOutputNames } from './decode-graph';

export const DECODE_GRAPH_FILE = 'chat_decode.v2.onnx';

/** The decode graph file of a model folder, written on first use; undefined if it cannot be made. */
export function ensureDecodeGraph(modelDir: string, manifest: ModelManifest): string | undefined {
  // A read-only model folder gives undefined: the caller falls back to the general LLM graph.
  return ensureDerivedGraph(modelDir, manifest, DECODE_GRAPH_FILE, () =>
    buildChatDecodeGraph(manifest.configs, manifest.dtype === 'fp16' ? 'float16' : 'float32'),
  );
}

/** The KV cache in (1, Hk, capacity, hd) buffers per layer, filled up to `length`. */
export interface DecodeCache {
  keys: Float32Array[];
  values: Float32Array[];
  length: number;
  capacity: number;
  /** 0 for filled slots, −∞ for empty ones (additive attention mask). */
  mask: Float32Array;
}

export class ChatDecoder {
  private constructor(
    private readonly manifest: ModelManifest,
    private readonly loaded: LoadedSession,
    /** The LLM's shared-weight sessions, which this graph joins (it reads the same layers). */
    private readonly sessions: SharedWeightSessions,
  ) {}

  /** The provider the decode graph runs on, and why it fell back if it did. */
  get placement(): Pick<LoadedSession, 'executionProvider' | 'fallbackReason'> {
    return this.loaded;
  }

  static async load(
    modelDir: string,
    manifest: ModelManifest,
    ep: ExecutionProviderChoice,
    sessions: SharedWeightSessions,
  ): Promise<ChatDecoder | undefined> {
    const path = ensureDecodeGraph(modelDir, manifest);
    if (!path) return undefined;
    // The same settings as the LLM's graphs: mapped float weights shared, quantised ones prepacked.
    const tuning = layerSessionTuning(manifest);
    const first = await createSession(path, ep, tuning);
    await sessions.add('decode', () => createSession(path, first.executionProvider, tuning), first);
    return new ChatDecoder(manifest, first, sessions);
  }

  /** Copies a runner cache into buffers with room for `extraRows` more tokens. */
  fromRunnerCache(cache: KvCache, extraRows: number): DecodeCache {
    const t = this.manifest.configs.text;
    const { numKvHeads: Hk, headDim: hd } = t;
    const T = cache.length;
    const capacity = T + extraRows;
    const copy = (tensor: ort.Tensor): Float32Array => {
      const src = tensor.data as Float32Array;
      const out = new Float32Array(Hk * capacity * hd);
      for (let h = 0; h < Hk; h++) out.set(src.subarray(h * T * hd, (h + 1) * T * hd), h * capacity * hd);
      return out;
    };
    const mask = new Float32Array(capacity).fill(-Infinity);
    mask.fill(0, 0, T);
    return { keys: cache.keys.map(copy), values: cache.values.map(copy), length: T, capacity, mask };
  }

  /** The same cache in larger buffers (filled rows copied). */
  grow(cache: DecodeCache, capacity: number): DecodeCache {
    const { numKvHeads: Hk, headDim: hd } = this.manifest.configs.text;
    const copy = (src: Float32Array): Float32Array => {
      const out = new Float32Array(Hk * capacity * hd);
      for (let h = 0; h < Hk; h++) {
        out.set(
          src.subarray(h * cache.capacity * hd, (h * cache.capacity + cache.length) * hd),
          h * capacity * hd,
        );
      }
      return out;
    };
    const mask = new Float32Array(capacity).fill(-Infinity);
    mask.fill(0, 0, cache.length);
    return {
      keys: cache.keys.map(copy),
      values: cache.values.map(copy),
      length: cache.length,
      capacity,
      mask,
    };
  }

  /** Forgets every row from `length` on (masked out; the slots are overwritten by later rows). */
  truncate(cache: DecodeCache, length: number): void {
    if (length >= cache.length) return;
    cache.mask.fill(-Infinity, length, cache.length);
    cache.length = length;
  }

  /**
   * Appends a block of text tokens at positions first, first + 1, … (all three
   * M-RoPE rows equal, doc §5.2) — causal within the block, seeing the whole
   * cache — and returns the logits of its last token.
   */
  async run(cache: DecodeCache, tokenIds: readonly number[], firstPosition: number): Promise<Float32Array> {
    const t = this.manifest.configs.text;
    const { numKvHeads: Hk, numHeads: Hq, headDim: hd, numLayers } = t;
    const L = tokenIds.length;
    if (L === 0) throw new Error('decode block without tokens');
    if (cache.length + L > cache.capacity) throw new Error('decode cache is full');
    const positions = new Int32Array(3 * L);
    for (let r = 0; r < 3; r++) for (let i = 0; i < L; i++) positions[r * L + i] = firstPosition + i;
    const { cos, sin } = mropeCosSin(positions, L, hd, t.ropeTheta);
    // Causal mask of the block for each of the G query heads sharing a KV head.
    const G = Hq / Hk;
    const blockMask = new Float32Array(G * L * L);
    for (let gi = 0; gi < G; gi++) {
      for (let i = 0; i < L; i++) blockMask.fill(-Infinity, (gi * L + i) * L + i + 1, (gi * L + i + 1) * L);
    }
    const feeds: Record<string, ort.Tensor> = {
      [decodeInputNames.ids]: int64Tensor(tokenIds),
      [decodeInputNames.cos]: floatTensor(cos, [1, L, hd / 2]),
      [decodeInputNames.sin]: floatTensor(sin, [1, L, hd / 2]),
      [decodeInputNames.cacheMask]: floatTensor(cache.mask, [1, 1, 1, cache.capacity]),
      [decodeInputNames.blockMask]: floatTensor(blockMask, [1, 1, G * L, L]),
    };
    for (let i = 0; i < numLayers; i++) {
      feeds[decodeInputNames.cacheKey(i)] = floatTensor(cache.keys[i], [1, Hk, cache.capacity, hd]);
      feeds[decodeInputNames.cacheValue(i)] = floatTensor(cache.values[i], [1, Hk, cache.capacity, hd]);
    }
    const out = await this.sessions.run('decode', (session) => session.run(feeds));
    const slot = cache.length;
    for (let i = 0; i < numLayers; i++) {
      const k = out[decodeOutputNames.newKey(i)].data as Float32Array;
      const v = out[decodeOutputNames.newValue(i)].data as Float32Array;
      for (let h = 0; h < Hk; h++) {
        const at = (h * cache.capacity + slot) * hd;
        cache.keys[i].set(k.subarray(h * L * hd, (h + 1) * L * hd), at);
        cache.values[i].set(v.subarray(h * L * hd, (h + 1) * L * hd), at);
      }
    }
    cache.mask.fill(0, slot, slot + L);
    cache.length = slot + L;
    return out[decodeOutputNames.logits].data as Float32Array;
  }
}
