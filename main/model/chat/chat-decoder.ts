// Runs the single-step decode graph (decode-graph.ts) over a KV cache held in
// fixed-capacity buffers: per step one session run (embedding → layers → LM
// head), the cache read in place, and only the new token's K/V rows written
// back. The graph shares the converted model's weights file: when the model
// folder has no decode graph yet, it is built once from the model's config and
// the weight locations recorded in the folder's other graphs, and saved beside
// them (`chat_decode.v2.onnx`).
//
// On WebGPU the device form of the graph (`chat_decode.device.v1.onnx`) runs
// instead: the cache goes up once per question, each step's updated cache stays
// on the GPU as the next step's input, and the host buffers are kept current
// from the new rows alone (they stay the truth: truncating, growing and the next
// question start from them). The device copy is dropped when the question ends,
// so GPU memory holds a cache only while a question is being answered.
import * as ort from 'onnxruntime-node';
import { mropeCosSin } from '../g2vlm/mrope';
import { ensureDerivedGraph } from '../runtime/derived-graph';
import { layerSessionTuning, type KvCache } from '../runtime/llm-runner';
import type { ModelManifest } from '../runtime/model-manifest';
import { autoProvider } from '../runtime/provider-probe';
import type { SharedWeightSessions } from '../runtime/shared-weight-sessions';
import {
  createSession,
  floatTensor,
  int64Tensor,
  type ExecutionProviderChoice,
  type LoadedSession,
  type SessionTuning,
} from '../runtime/session';
import { buildChatDecodeGraph, decodeInputNames, decodeOutputNames } from './decode-graph';

export const DECODE_GRAPH_FILE = 'chat_decode.v2.onnx';
/** The form that also returns the updated cache, which WebGPU keeps on the device. */
export const DECODE_DEVICE_GRAPH_FILE = 'chat_decode.device.v1.onnx';

/** The decode graph file of a model folder, written on first use; undefined if it cannot be made. */
export function ensureDecodeGraph(
  modelDir: string,
  manifest: ModelManifest,
  cacheOnDevice = false,
): string | undefined {
  // A read-only model folder gives undefined: the caller falls back to the general LLM graph.
  return ensureDerivedGraph(
    modelDir,
    manifest,
    cacheOnDevice ? DECODE_DEVICE_GRAPH_FILE : DECODE_GRAPH_FILE,
    () =>
      buildChatDecodeGraph(manifest.configs, {
        weightType: manifest.dtype === 'fp16' ? 'float16' : 'float32',
        cacheOnDevice,
      }),
  );
}

/** What crossed from host buffers into the decode graph's cache inputs (uploads, on a GPU). */
export interface DecodeCacheTraffic {
  runs: number;
  /** Runs that fed the cache from host buffers. */
  hostFedRuns: number;
  /** Bytes of cache fed from host buffers. */
  hostFedBytes: number;
}

/** The KV cache in (1, Hk, capacity, hd) buffers per layer, filled up to `length`. */
export interface DecodeCache {
  keys: Float32Array[];
  values: Float32Array[];
  length: number;
  capacity: number;
  /** 0 for filled slots, −∞ for empty ones (additive attention mask). */
  mask: Float32Array;
  /**
   * The same buffers on the GPU (the device form on WebGPU), from a question's
   * first run until `releaseDevice`; the previous step's are disposed by each run.
   */
  device?: { keys: ort.Tensor[]; values: ort.Tensor[] };
}

export class ChatDecoder {
  /** Since load; the chat bench and the tests read it. */
  readonly traffic: DecodeCacheTraffic = { runs: 0, hostFedRuns: 0, hostFedBytes: 0 };

  private constructor(
    private readonly manifest: ModelManifest,
    private readonly loaded: LoadedSession,
    /** The LLM's shared-weight sessions, which this graph joins (it reads the same layers). */
    private readonly sessions: SharedWeightSessions,
    /** The graph is the device form (it takes `slot` and returns the updated cache). */
    private readonly deviceForm: boolean,
  ) {}

  /** Whether the cache stays on the GPU between steps (the device form, running on WebGPU). */
  get cacheOnDevice(): boolean {
    return this.deviceForm && this.loaded.executionProvider === 'webgpu';
  }

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
    const target = ep === 'auto' ? (await autoProvider()).provider : ep;
    // The device form where the cache can stay on the GPU; the plain one elsewhere (or if it cannot be written).
    const devicePath = target === 'webgpu' ? ensureDecodeGraph(modelDir, manifest, true) : undefined;
    const path = devicePath ?? ensureDecodeGraph(modelDir, manifest);
    if (!path) return undefined;
    const layers = manifest.configs.text.numLayers;
    const updated = Array.from({ length: layers }, (_, i) => [
      decodeOutputNames.updatedKey(i),
      decodeOutputNames.updatedValue(i),
    ]).flat();
    // The same settings as the LLM's graphs: mapped float weights shared, quantised ones prepacked.
    const tuning: SessionTuning = {
      ...layerSessionTuning(manifest),
      ...(devicePath ? { deviceOutputs: updated } : {}),
    };
    const first = await createSession(path, ep, tuning);
    await sessions.add('decode', () => createSession(path, first.executionProvider, tuning), first);
    return new ChatDecoder(manifest, first, sessions, devicePath !== undefined);
  }

  /** Drops the GPU copy of the cache (the host buffers stay); the next run uploads them again. */
  releaseDevice(cache: DecodeCache): void {
    if (!cache.device) return;
    for (const tensor of [...cache.device.keys, ...cache.device.values]) tensor.dispose();
    cache.device = undefined;
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
    this.releaseDevice(cache);
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
    const slot = cache.length;
    if (this.deviceForm) feeds[decodeInputNames.slot] = int64Tensor([slot]);
    const device = this.cacheOnDevice ? cache.device : undefined;
    for (let i = 0; i < numLayers; i++) {
      feeds[decodeInputNames.cacheKey(i)] =
        device?.keys[i] ?? floatTensor(cache.keys[i], [1, Hk, cache.capacity, hd]);
      feeds[decodeInputNames.cacheValue(i)] =
        device?.values[i] ?? floatTensor(cache.values[i], [1, Hk, cache.capacity, hd]);
    }
    this.traffic.runs++;
    if (!device) {
      this.traffic.hostFedRuns++;
      this.traffic.hostFedBytes += 2 * numLayers * cache.keys[0].byteLength;
    }
    const out = await this.sessions.run('decode', (session) => session.run(feeds));
    if (this.cacheOnDevice) {
      // This step's updated cache is the next step's input; the one it replaces is done with.
      this.releaseDevice(cache);
      cache.device = {
        keys: Array.from({ length: numLayers }, (_, i) => out[decodeOutputNames.updatedKey(i)]),
        values: Array.from({ length: numLayers }, (_, i) => out[decodeOutputNames.updatedValue(i)]),
      };
    }
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
