// The loaded pieces the chat needs from a converted model folder: the LLM
// runner (embeddings, MoT layers with KV cache, LM head), the DINO graph (the
// geometry phase) and the vision tower graph (the understanding phase), plus
// the tokenizer. Loading is slow (sessions), so the engine keeps one ChatModel
// per model folder and reuses it across questions.
import type * as ort from 'onnxruntime-node';
import {
  DEFAULT_QWEN_PROCESSOR,
  readPreprocessorConfig,
  type QwenProcessor,
} from '../preprocess/preprocessor-config';
import { StudioError } from '../../common/errors';
import { dinoPositionInputs } from '../g2vlm/dino-position';
import { patchRowLength, visionRotaryCosSin } from '../g2vlm/vision-tower';
import { graphFolderFor } from '../runtime/float32-form';
import { LlmRunner } from '../runtime/llm-runner';
import { readModelManifest, type ModelManifest } from '../runtime/model-manifest';
import {
  combinedProvider,
  createGraphSession,
  fallbackReasons,
  floatTensor,
  type ExecutionProviderChoice,
} from '../runtime/session';
import { loadQwen2Tokenizer, type Qwen2Tokenizer } from '../tokenizer/qwen2-tokenizer';
import { tokenIdMapFor } from '../tokenizer/token-id-map';
import { ChatDecoder } from './chat-decoder';
import type { DinoInput } from './dino-input';

export interface VisionTowerOutput {
  /** (gh·gw, E): the last block's output (for parity checks). */
  blocksOut: Float32Array;
  /** (gh·gw/4, D): the LLM embeddings of the image tokens. */
  vitOut: Float32Array;
}

export class ChatModel {
  private constructor(
    readonly modelDir: string,
    readonly manifest: ModelManifest,
    readonly llm: LlmRunner,
    private readonly dinoSession: ort.InferenceSession,
    private readonly visionSession: ort.InferenceSession,
    /** Undefined when the model folder carries no tokenizer (ids must then be given directly). */
    readonly tokenizer: Qwen2Tokenizer | undefined,
    readonly executionProvider: string,
    /** The one-step decode graph; undefined when it could not be built (read-only folder). */
    readonly decoder: ChatDecoder | undefined,
    /** Why graphs fell back to the CPU (empty when none did). */
    readonly providerNotes: string[] = [],
    /** The image processor settings (the folder's preprocessor_config.json, else Qwen2-VL's). */
    readonly processor: QwenProcessor = DEFAULT_QWEN_PROCESSOR,
    /** Some of its sessions run fp16-compute forms: each step's logits are checked for overflow. */
    readonly computesInFloat16 = false,
  ) {}

  static async load(
    modelDir: string,
    ep: ExecutionProviderChoice = 'cpu',
    opts: { requireTokenizer?: boolean } = {},
  ): Promise<ChatModel> {
    const manifest = readModelManifest(modelDir);
    if (!manifest.graphs.vision_tower) {
      throw new StudioError(
        'model-corrupt',
        'The converted model has no vision tower graph, which spatial questions need.',
        'Convert the checkpoint again with this version of G2 Studio.',
      );
    }
    const tokenizer = await ChatModel.loadTokenizer(modelDir, manifest, opts.requireTokenizer ?? true);
    // The graphs' folder: on the CPU an fp16 model runs from its float32 form (float32-form.ts).
    const graphs = await graphFolderFor(modelDir, manifest, ep);
    const llm = await LlmRunner.load(graphs.dir, graphs.manifest, ep);
    const dino = await createGraphSession(graphs.dir, graphs.manifest, 'dino', ep);
    const vision = await createGraphSession(graphs.dir, graphs.manifest, 'vision_tower', ep);
    const decoder = await ChatDecoder.load(graphs.dir, graphs.manifest, ep, llm.layerSessions);
    const processor = await readPreprocessorConfig(modelDir);
    return new ChatModel(
      modelDir,
      manifest,
      llm,
      dino.session,
      vision.session,
      tokenizer,
      combinedProvider([llm, dino, vision, ...(decoder ? [decoder.placement] : [])]),
      decoder,
      [
        ...llm.providerNotes,
        ...fallbackReasons([dino, vision, ...(decoder ? [decoder.placement] : [])]),
        ...(graphs.note ? [graphs.note] : []),
      ],
      processor,
      [dino, vision].some((s) => s.compute === 'float16'),
    );
  }

  /** The tokenizer of the model folder (or of the checkpoint it was converted from). */
  private static async loadTokenizer(
    modelDir: string,
    manifest: ModelManifest,
    required: boolean,
  ): Promise<Qwen2Tokenizer | undefined> {
    const idMap = tokenIdMapFor(manifest.configs.text.vocabSize, manifest.specialTokens.endOfText);
    const candidates = [modelDir, manifest.sourceDir].filter(
      (d): d is string => typeof d === 'string' && d !== '',
    );
    let lastError: unknown;
    for (const dir of candidates) {
      try {
        return await loadQwen2Tokenizer(dir, idMap);
      } catch (error) {
        lastError = error;
      }
    }
    if (!required) return undefined;
    throw lastError instanceof StudioError
      ? lastError
      : new StudioError(
          'model-corrupt',
          'The converted model has no tokenizer.',
          'Put tokenizer.json (or vocab.json + merges.txt) beside the checkpoint and convert it again.',
        );
  }

  get hiddenSize(): number {
    return this.manifest.configs.text.hiddenSize;
  }

  get special(): ModelManifest['specialTokens'] {
    return this.manifest.specialTokens;
  }

  /** DINO → dino2llm for all chat images: (N·P, D) rows, frame-major. */
  async encodeGeometry(input: DinoInput): Promise<Float32Array> {
    const [gh, gw] = input.grid;
    const side = this.manifest.configs.dino.positionGridSide;
    const pos = dinoPositionInputs(side, gh, gw);
    const out = await this.dinoSession.run({
      pixel_values: floatTensor(input.pixelValues, [input.frames, 3, input.height, input.width]),
      pos_rows: floatTensor(pos.rows, [gh, side]),
      pos_cols_t: floatTensor(pos.colsT, [side, gw]),
    });
    return out.dino2llm_out.data as Float32Array;
  }

  /** Vision tower + merger for one image's processor rows. */
  async encodeVision(pixelValues: Float32Array, gridH: number, gridW: number): Promise<VisionTowerOutput> {
    const vit = this.manifest.configs.vit;
    const rows = gridH * gridW;
    const rowLength = patchRowLength(vit);
    if (pixelValues.length !== rows * rowLength) {
      throw new Error(
        `vision tower: ${pixelValues.length} values for a ${gridH}×${gridW} grid of ${rowLength}-rows`,
      );
    }
    const { cos, sin } = visionRotaryCosSin(gridH, gridW, vit.headDim, vit.spatialMergeSize);
    const half = vit.headDim / 2;
    const out = await this.visionSession.run({
      pixel_values: floatTensor(pixelValues, [rows, rowLength]),
      rotary_cos: floatTensor(cos, [1, rows, half]),
      rotary_sin: floatTensor(sin, [1, rows, half]),
    });
    return { blocksOut: out.blocks_out.data as Float32Array, vitOut: out.vit_out.data as Float32Array };
  }

  async release(): Promise<void> {
    // The decode graph's session is one of the LLM's shared-weight sessions: it closes with them.
    await this.llm.release();
    await this.dinoSession.release();
    await this.visionSession.release();
  }
}
