// 3-D reconstruction (the official `G2VLM.recon`, model doc §3.1):
// preprocess -> DINO -> LLM (text phase, then one non-causal geometry block
// with MoT routing) -> point / camera / global decoders -> poses and world
// points. The official `prompt` argument is ignored by `recon` (pitfall 15),
// so there is none here; the frames are used in the order given (frame 0
// fixes the resize target and is the global head's reference).
import type { ort } from './ort';
import { cancelledError } from '../../common/errors';
import type {
  EngineProgress,
  ReconstructRequest,
  ReconstructionOutput,
  StageMeasurement,
  StageRate,
} from '../engine/engine-types';
import { dinoPositionInputs } from '../g2vlm/dino-position';
import { concatPositions, PositionCounter } from '../g2vlm/mrope';
import { rope2dTables } from '../g2vlm/rope2d';
import { decodeRgb, prepareDinoBatch, type DinoBatch, type RgbImage } from '../preprocess/dino-image';
import { graphFolderFor } from './float32-form';
import { checkFloat16Output, Float16OverflowError, markFloat16Overflow } from './float16-compute-form';
import { LlmRunner } from './llm-runner';
import { readModelManifest, type ModelManifest } from './model-manifest';
import { posesFromHead, worldPointsFromLocal } from './rotation';
import { cpuNodesOfModel } from './node-placement';
import { StageClock } from './stage-clock';
import { decodersGflop, dinoGflop, expectStage, llmBlockGflop, withMeasuredRate } from './stage-work';
import {
  combinedProvider,
  createGraphSession,
  fallbackReasons,
  floatTensor,
  int64Tensor,
  type ExecutionProviderChoice,
} from './session';

/** The graphs a reconstruction loads (a chat in the same process loads others). */
const RECON_GRAPH_IDS = new Set([
  'dino',
  'embed_tokens',
  'llm_causal',
  'llm_block',
  'llm_one',
  'point_decoder',
  'camera_decoder',
  'global_decoder',
]);

/** Attention scores of one decoder run are kept under this (frames are batched up to it). */
const DECODER_SCORE_BUDGET_BYTES = 384 * 2 ** 20;

/** The stages that run long, in order; each has a span of the bar and an expected time (stage-work.ts). */
const LONG_STAGES = ['dino', 'geometry-prefill', 'decoders'] as const;
type LongStage = (typeof LONG_STAGES)[number];

/** Receives intermediate tensors by their golden names (verify-golden, stage tests). */
export type TensorCapture = (name: string, data: ArrayLike<number>, shape: number[]) => void;

export interface ReconRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  capture?: TensorCapture;
  /** Frames per decoder run (default: as many as fit DECODER_SCORE_BUDGET_BYTES). */
  decoderBatchFrames?: number;
  /** Prompt ids after <bos> (default: the converted model's `reconPromptIds`); golden checks feed the set's own ids. */
  promptIds?: readonly number[];
  /** Measured stage speeds from earlier runs (the request's `stageRates`); absent: first-run estimates. */
  stageRates?: readonly StageRate[];
  /** The request's clock when the caller has already reported progress on it (runReconstruction's decoding). */
  clock?: StageClock;
}

/** The loaded sessions of one converted model (kept between reconstructions). */
export class ReconModel {
  private constructor(
    readonly modelDir: string,
    readonly manifest: ModelManifest,
    readonly llm: LlmRunner,
    private readonly dino: ort.InferenceSession,
    private readonly decoders: Record<'point' | 'camera' | 'global', ort.InferenceSession>,
    readonly executionProvider: string,
    /** Why graphs fell back to the CPU (empty when none did). */
    readonly providerNotes: string[] = [],
    /** Some of its sessions run fp16-compute forms: stage outputs are checked for overflow. */
    readonly computesInFloat16 = false,
  ) {}

  static async load(
    modelDir: string,
    ep: ExecutionProviderChoice = 'cpu',
    /** 0..1 while an fp16 model's float32 form is written (once, on the CPU). */
    onLoadProgress?: (fraction: number) => void,
  ): Promise<ReconModel> {
    const manifest = readModelManifest(modelDir);
    // The graphs' folder: on the CPU an fp16 model runs from its float32 form (float32-form.ts).
    const graphs = await graphFolderFor(modelDir, manifest, ep, onLoadProgress);
    const load = (id: 'dino' | 'point_decoder' | 'camera_decoder' | 'global_decoder') =>
      createGraphSession(graphs.dir, graphs.manifest, id, ep, { arena: false });
    const dino = await load('dino');
    // Reconstruction reads no token logits: the LM head (and the vision tower) stay unloaded.
    const llm = await LlmRunner.load(graphs.dir, graphs.manifest, ep, { lmHead: false });
    const point = await load('point_decoder');
    const camera = await load('camera_decoder');
    const global = await load('global_decoder');
    return new ReconModel(
      modelDir,
      manifest,
      llm,
      dino.session,
      { point: point.session, camera: camera.session, global: global.session },
      combinedProvider([dino, llm, point, camera, global]),
      [
        ...fallbackReasons([dino, point, camera, global]),
        ...llm.providerNotes,
        ...(graphs.note ? [graphs.note] : []),
      ],
      [dino, point, camera, global].some((s) => s.compute === 'float16'),
    );
  }

  async release(): Promise<void> {
    await this.dino.release();
    await this.llm.release();
    for (const s of Object.values(this.decoders)) await s.release();
  }

  /** Runs the whole reconstruction on decoded frames. */
  async reconstruct(images: RgbImage[], opts: ReconRunOptions = {}): Promise<ReconstructionOutput> {
    const clock = opts.clock ?? new StageClock((p) => opts.onProgress?.(p));
    return this.reconstructOnClock(images, opts, clock);
  }

  private async reconstructOnClock(
    images: RgbImage[],
    opts: ReconRunOptions,
    clock: StageClock,
  ): Promise<ReconstructionOutput> {
    const timings: Record<string, number> = {};
    const capture = opts.capture;
    const checkpoint = (): void => {
      if (opts.signal?.aborted) throw cancelledError('The reconstruction');
    };
    let lapStart = performance.now();
    const lap = (stage: string): void => {
      const now = performance.now();
      timings[stage] = (timings[stage] ?? 0) + (now - lapStart);
      lapStart = now;
    };

    clock.begin('preprocess', 0, 0.05);
    const batch = prepareDinoBatch(images, opts.signal);
    const { frames: N, width: W, height: H } = batch;
    if (capture) captureImages(batch, capture);
    lap('preprocess');
    checkpoint();

    // The long stages' work, and their expected time on this provider from
    // the measured rates; each measured stage refines the guesses for the
    // stages after it when they have no history of their own.
    const patch = this.manifest.configs.dino.patchSize;
    const P = (W / patch) * (H / patch);
    const promptRows = 1 + (opts.promptIds ?? this.manifest.reconPromptIds).length;
    const work: Record<LongStage, number> = {
      dino: dinoGflop(this.manifest, N, P),
      'geometry-prefill':
        llmBlockGflop(this.manifest, promptRows, 0) + llmBlockGflop(this.manifest, N * (P + 2), promptRows),
      decoders: decodersGflop(this.manifest, N, P),
    };
    const provider = this.executionProvider;
    let rates: StageRate[] = (opts.stageRates ?? []).slice();
    const measurements: StageMeasurement[] = [];
    const expect = (stage: LongStage) => expectStage(rates, provider, stage, work[stage]);
    const runStage = async <T>(
      stage: LongStage,
      from: number,
      to: number,
      body: () => Promise<T>,
    ): Promise<T> => {
      const later = LONG_STAGES.slice(LONG_STAGES.indexOf(stage) + 1);
      clock.plan(later.map((s) => ({ stage: s, expectation: expect(s) })));
      clock.begin(stage, from, to, expect(stage));
      const result = await body();
      const ms = clock.end();
      measurements.push({ stage, gflop: work[stage], ms });
      rates = withMeasuredRate(rates, provider, stage, work[stage], ms);
      lap(stage);
      checkpoint();
      return result;
    };

    // fp16 compute (a GPU with shader-f16): each stage's output is checked for overflow.
    const checked = (values: Float32Array, where: string): Float32Array => {
      checkFloat16Output(this, values, where);
      return values;
    };
    const dino2llm = await runStage('dino', 0.05, 0.15, async () =>
      checked(await this.runDino(batch, capture), 'DINO'),
    );
    const geometryHidden = await runStage('geometry-prefill', 0.15, 0.55, async () =>
      checked(
        await this.geometryPrefill(dino2llm, batch, opts.signal, capture, opts.promptIds),
        'the geometry expert',
      ),
    );
    const heads = await runStage('decoders', 0.55, 0.95, async () => {
      const out = await this.runDecoders(
        geometryHidden,
        batch,
        opts.signal,
        capture,
        opts.decoderBatchFrames,
        (p) => clock.step(p),
      );
      for (const values of [out.localPoints, out.globalPoints, out.rot9, out.t])
        checked(values, 'the decoders');
      return out;
    });

    clock.begin('heads', 0.95, 1);
    const poses = posesFromHead(heads.rot9, heads.t, N);
    const worldPoints = worldPointsFromLocal(heads.localPoints, poses, N);
    lap('heads');
    if (capture) {
      capture('recon.camera_poses', poses, [1, N, 4, 4]);
      capture('recon.local_points', heads.localPoints, [1, N, H, W, 3]);
      capture('recon.points', worldPoints, [1, N, H, W, 3]);
      capture('recon.global_points', heads.globalPoints, [1, N, H, W, 3]);
    }
    clock.step(1);
    return {
      frameCount: N,
      width: W,
      height: H,
      worldFromCamera: poses,
      localPoints: heads.localPoints,
      worldPoints,
      globalPoints: heads.globalPoints,
      colors: batch.resizedRgb,
      executionProvider: this.executionProvider,
      ...(this.providerNotes.length > 0 ? { providerNotes: this.providerNotes } : {}),
      ...(this.executionProvider === 'cpu'
        ? {}
        : cpuNodesOfModel(this.modelDir, (id) => RECON_GRAPH_IDS.has(id))),
      precision: this.manifest.dtype,
      timingsMs: timings,
      stageMeasurements: measurements,
    };
  }

  /**
   * DINO runs over all frames at once, and cannot be split per frame for
   * progress: the official model packs each frame as 1+R+P rows but gives
   * flash-attention windows of P rows (cu_seqlens from the patch counts,
   * modeling/g2vlm/g2vlm.py), so window k straddles the tail of frame k-1 and
   * frame k (model doc §4). Measured on tiny-a with 3 frames, one frame per
   * run changes frame 0's last 1+R = 5 patch rows and 777 of 777 (frame 1) and
   * 772 of 777 (frame 2) rows by up to 2.6 — golden parity is lost. Its
   * progress comes from the timed-stage heartbeat instead.
   */
  private async runDino(batch: DinoBatch, capture?: TensorCapture): Promise<Float32Array> {
    const d = this.manifest.configs.dino;
    const gh = batch.height / d.patchSize;
    const gw = batch.width / d.patchSize;
    const pos = dinoPositionInputs(d.positionGridSide, gh, gw);
    const fetches = capture
      ? ['dino2llm_out', 'dino_out', 'dino_embeddings', 'dino_pos_embed']
      : ['dino2llm_out'];
    const out = await this.dino.run(
      {
        pixel_values: floatTensor(batch.pixelValues, [batch.frames, 3, batch.height, batch.width]),
        pos_rows: floatTensor(pos.rows, [gh, d.positionGridSide]),
        pos_cols_t: floatTensor(pos.colsT, [d.positionGridSide, gw]),
      },
      fetches,
    );
    if (capture) {
      for (const name of ['dino_pos_embed', 'dino_embeddings', 'dino_out', 'dino2llm_out']) {
        capture(`recon.${name}`, out[name].data as Float32Array, out[name].dims.slice());
      }
    }
    return out.dino2llm_out.data as Float32Array;
  }

  /** Text phase + geometry block; returns the final-normed DINO rows as (N·P, D). */
  private async geometryPrefill(
    dino2llm: Float32Array,
    batch: DinoBatch,
    signal: AbortSignal | undefined,
    capture?: TensorCapture,
    promptIds: readonly number[] = this.manifest.reconPromptIds,
  ): Promise<Float32Array> {
    const m = this.manifest;
    const D = m.configs.text.hiddenSize;
    const patch = m.configs.dino.patchSize;
    const gh = batch.height / patch;
    const gw = batch.width / patch;
    const P = gh * gw;
    const N = batch.frames;
    const llm = this.llm;
    const cache = llm.newCache();
    const counter = new PositionCounter();

    // Phase 1: [bos] + 'Reconstruct the 3D scene.' (causal, und).
    const textIds = [m.specialTokens.bos, ...promptIds];
    const textPositions = counter.text(textIds.length);
    await llm.run(
      cache,
      { embeds: await llm.embedTokens(textIds), positions: textPositions, causal: true },
      { signal },
    );
    // The geometry block reads the same layer weights: on the CPU the causal graph closes as it opens.
    if (signal?.aborted) throw cancelledError('The reconstruction');

    // Phase 2: per frame [<|vision_start|>, P DINO rows, <|vision_end|>], one non-causal block.
    const rowsPerFrame = P + 2;
    const L = N * rowsPerFrame;
    const [startEmbed, endEmbed] = splitRows(
      await llm.embedTokens([m.specialTokens.startOfImage, m.specialTokens.endOfImage]),
      D,
    );
    const embeds = new Float32Array(L * D);
    const geoRows = new Int32Array(N * P);
    const positionBlocks: Int32Array[] = [];
    const textRowIndexes: number[] = [];
    const textRowIds: number[] = [];
    for (let n = 0; n < N; n++) {
      const base = n * rowsPerFrame;
      embeds.set(startEmbed, base * D);
      embeds.set(dino2llm.subarray(n * P * D, (n + 1) * P * D), (base + 1) * D);
      embeds.set(endEmbed, (base + 1 + P) * D);
      for (let i = 0; i < P; i++) geoRows[n * P + i] = base + 1 + i;
      textRowIndexes.push(base, base + 1 + P);
      textRowIds.push(m.specialTokens.startOfImage, m.specialTokens.endOfImage);
      positionBlocks.push(counter.text(1), counter.grid(gh, gw), counter.text(1));
    }
    const geoPositions = concatPositions(positionBlocks);
    const { hidden } = await llm.run(
      cache,
      { embeds, positions: geoPositions, geoRows, causal: false },
      { signal },
    );

    if (capture) {
      capture('recon.text_ids', textIds, [textIds.length]);
      capture('recon.text_position_ids', textPositions, [3, textIds.length]);
      capture('recon.geo_position_ids', geoPositions, [3, L]);
      capture('recon.position_ids_full', concatPositions([textPositions, geoPositions]), [
        3,
        textIds.length + L,
      ]);
      capture('recon.geo_dino_indexes', geoRows, [geoRows.length]);
      capture('recon.geo_text_indexes', textRowIndexes, [textRowIndexes.length]);
      capture('recon.geo_text_ids', textRowIds, [textRowIds.length]);
      const tokenType = new Int32Array(textIds.length + L).fill(1);
      tokenType.fill(0, 0, textIds.length);
      for (const r of geoRows) tokenType[textIds.length + r] = 2;
      capture('recon.token_type_full', tokenType, [tokenType.length]);
      const Hk = m.configs.text.numKvHeads;
      const hd = m.configs.text.headDim;
      capture('recon.kv_layer0_k', llm.cacheRows(cache, 0, 'keys'), [cache.length, Hk, hd]);
      capture('recon.kv_layer0_v', llm.cacheRows(cache, 0, 'values'), [cache.length, Hk, hd]);
      capture('recon.geo_prefill_last_hidden', hidden, [L, D]);
    }
    const dinoRows = new Float32Array(N * P * D);
    for (let n = 0; n < N; n++) {
      const from = (n * rowsPerFrame + 1) * D;
      dinoRows.set(hidden.subarray(from, from + P * D), n * P * D);
    }
    return dinoRows;
  }

  private async runDecoders(
    hidden: Float32Array,
    batch: DinoBatch,
    signal: AbortSignal | undefined,
    capture: TensorCapture | undefined,
    requestedBatchFrames: number | undefined,
    onStep: (fraction: number) => void,
  ): Promise<{ localPoints: Float32Array; globalPoints: Float32Array; rot9: Float32Array; t: Float32Array }> {
    const cfg = this.manifest.configs.decoders;
    const patch = this.manifest.configs.dino.patchSize;
    const gh = batch.height / patch;
    const gw = batch.width / patch;
    const P = gh * gw;
    const N = batch.frames;
    const D = cfg.width;
    const { cos, sin } = rope2dTables(gh, gw, cfg.headDim, cfg.ropeFrequency);
    const ropeCos = floatTensor(cos, [P, cfg.headDim]);
    const ropeSin = floatTensor(sin, [P, cfg.headDim]);
    const grid = int64Tensor([gh, gw]);
    // The global head cross-attends to frame 0's hidden (doc §7.2).
    const context = floatTensor(hidden.slice(0, P * D), [1, P, D]);
    const withHidden = (name: string, rest: string[]): string[] => (capture ? [name, ...rest] : rest);

    // Frames are independent in every decoder (attention stays within a frame;
    // the global context is an input), so they run in batches of frames sized
    // to bound the 16·P² attention scores of a batch.
    const scoreBytesPerFrame = cfg.numHeads * P * P * 4;
    const batchFrames = Math.max(
      1,
      Math.min(N, requestedBatchFrames ?? Math.floor(DECODER_SCORE_BUDGET_BYTES / scoreBytesPerFrame)),
    );
    const pixelsPerFrame = batch.width * batch.height * 3;
    const localPoints = new Float32Array(N * pixelsPerFrame);
    const globalPoints = new Float32Array(N * pixelsPerFrame);
    const rot9 = new Float32Array(N * 9);
    const t = new Float32Array(N * 3);
    const hiddens = capture
      ? {
          point: new Float32Array(N * P * D),
          camera: new Float32Array(N * P * D),
          global: new Float32Array(N * P * D),
        }
      : undefined;
    for (let f0 = 0; f0 < N; f0 += batchFrames) {
      const f1 = Math.min(N, f0 + batchFrames);
      const n = f1 - f0;
      const common = {
        hidden: floatTensor(hidden.subarray(f0 * P * D, f1 * P * D), [n, P, D]),
        rope_cos: ropeCos,
        rope_sin: ropeSin,
      };
      const point = await this.decoders.point.run(
        { ...common, patch_grid: grid },
        withHidden('point_decoder_hidden', ['local_points']),
      );
      if (signal?.aborted) throw cancelledError('The reconstruction');
      const camera = await this.decoders.camera.run(
        common,
        withHidden('camera_decoder_hidden', ['camera_rot9', 'camera_t']),
      );
      if (signal?.aborted) throw cancelledError('The reconstruction');
      const global = await this.decoders.global.run(
        { ...common, patch_grid: grid, context },
        withHidden('global_points_decoder_hidden', ['global_points']),
      );
      localPoints.set(point.local_points.data as Float32Array, f0 * pixelsPerFrame);
      globalPoints.set(global.global_points.data as Float32Array, f0 * pixelsPerFrame);
      rot9.set(camera.camera_rot9.data as Float32Array, f0 * 9);
      t.set(camera.camera_t.data as Float32Array, f0 * 3);
      if (hiddens) {
        hiddens.point.set(point.point_decoder_hidden.data as Float32Array, f0 * P * D);
        hiddens.camera.set(camera.camera_decoder_hidden.data as Float32Array, f0 * P * D);
        hiddens.global.set(global.global_points_decoder_hidden.data as Float32Array, f0 * P * D);
      }
      onStep(f1 / N);
      if (signal?.aborted) throw cancelledError('The reconstruction');
    }
    if (capture && hiddens) {
      capture('recon.point_decoder_hidden', hiddens.point, [N, P, D]);
      capture('recon.camera_decoder_hidden', hiddens.camera, [N, P, D]);
      capture('recon.global_points_decoder_hidden', hiddens.global, [N, P, D]);
      capture('recon.camera_head_rot9', rot9, [N, 9]);
      capture('recon.camera_head_t', t, [N, 3]);
    }
    return { localPoints, globalPoints, rot9, t };
  }
}

function splitRows(data: Float32Array, width: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let i = 0; i < data.length / width; i++) rows.push(data.subarray(i * width, (i + 1) * width));
  return rows;
}

function captureImages(batch: DinoBatch, capture: TensorCapture): void {
  const { frames: N, width: W, height: H } = batch;
  const plane = W * H;
  const nchw = new Uint8Array(N * 3 * plane);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < plane; i++)
        nchw[(n * 3 + c) * plane + i] = batch.resizedRgb[(n * plane + i) * 3 + c];
    }
  }
  capture('recon.dino_image_resized_u8', nchw, [N, 3, H, W]);
  capture('recon.dino_image_normalized', batch.pixelValues, [N, 3, H, W]);
}

let cached: { key: string; model: Promise<ReconModel> } | undefined;

/** The loaded model for a folder (one kept at a time; loading takes seconds for large models). */
export async function reconModelFor(
  modelDir: string,
  ep: ExecutionProviderChoice = 'cpu',
  onLoadProgress?: (fraction: number) => void,
): Promise<ReconModel> {
  // A re-converted folder (new manifest) must not reuse sessions of the old graphs.
  const key = `${modelDir}\u0000${ep}\u0000${readModelManifest(modelDir).created}`;
  if (cached?.key !== key) {
    const previous = cached;
    cached = { key, model: ReconModel.load(modelDir, ep, onLoadProgress) };
    if (previous) await (await previous.model.catch(() => undefined))?.release();
    cached.model.catch(() => {
      if (cached?.key === key) cached = undefined;
    });
  }
  return cached.model;
}

export async function releaseReconModels(): Promise<void> {
  const previous = cached;
  cached = undefined;
  if (previous) await (await previous.model.catch(() => undefined))?.release();
}

export async function runReconstruction(
  req: ReconstructRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: EngineProgress) => void } = {},
): Promise<ReconstructionOutput> {
  if (opts.signal?.aborted) throw cancelledError('The reconstruction');
  const clock = new StageClock((p) => opts.onProgress?.(p));
  // Decoding is most of preprocessing: one step per frame.
  clock.begin('preprocess', 0, 0.05);
  const images: RgbImage[] = [];
  for (const frame of req.frames) {
    if (opts.signal?.aborted) throw cancelledError('The reconstruction');
    images.push(await decodeRgb(frame.bytes, frame.name));
    clock.step((0.8 * images.length) / req.frames.length);
  }
  // Loading is a stage of its own: at the real size a quantised model packs its weights (~30 s).
  clock.begin('load', 0.04, 0.05);
  const ep = req.executionProvider ?? 'cpu';
  const model = await reconModelFor(req.modelDir, ep, (f) => clock.step(f));
  try {
    return await model.reconstruct(images, { ...opts, stageRates: req.stageRates, clock });
  } catch (error) {
    if (!(error instanceof Float16OverflowError)) throw error;
    // Once more with the folder's graphs in float32; the run's provider notes say why.
    markFloat16Overflow(req.modelDir);
    await releaseReconModels();
    clock.begin('load', 0.04, 0.05);
    const float32 = await reconModelFor(req.modelDir, ep, (f) => clock.step(f));
    return float32.reconstruct(images, { ...opts, stageRates: req.stageRates, clock });
  }
}
