// State-dict names of the language model and the geometry decoders, written
// once (model doc §1.2). The checkpoint inventory (checkpoint.ts) and the graph
// modules (g2vlm/llm.ts, g2vlm/decoders.ts, chat/decode-graph.ts) all read them
// from here, so a renamed tensor is a one-line change. Linear layers are named
// by their prefix; `.weight` / `.bias` are appended by whoever needs them.

const LM = 'language_model.';

/** The MoT experts: "und" (text, ViT rows) uses the plain names, "geo" (DINO rows) the `_moe_geo` twins. */
export type LlmExpert = 'und' | 'geo';
export const LLM_EXPERTS: readonly LlmExpert[] = ['und', 'geo'];

const suffixOf = (expert: LlmExpert): string => (expert === 'geo' ? '_moe_geo' : '');

/** One expert's weights in one decoder layer. */
export interface LlmExpertLayerNames {
  inputNorm: string;
  postAttentionNorm: string;
  /** Linear prefixes (q/k/v with bias, o without). */
  qProj: string;
  kProj: string;
  vProj: string;
  oProj: string;
  qNorm: string;
  kNorm: string;
  /** Gated-MLP prefix (`.gate_proj`, `.up_proj`, `.down_proj`). */
  mlp: string;
}

export const llmNames = {
  embedTokens: `${LM}model.embed_tokens.weight`,
  /** Linear prefix (no bias). */
  lmHead: `${LM}lm_head`,
  finalNorm: (expert: LlmExpert): string => `${LM}model.norm${suffixOf(expert)}.weight`,
  layer(i: number, expert: LlmExpert): LlmExpertLayerNames {
    const p = `${LM}model.layers.${i}.`;
    const s = suffixOf(expert);
    return {
      inputNorm: `${p}input_layernorm${s}.weight`,
      postAttentionNorm: `${p}post_attention_layernorm${s}.weight`,
      qProj: `${p}self_attn.q_proj${s}`,
      kProj: `${p}self_attn.k_proj${s}`,
      vProj: `${p}self_attn.v_proj${s}`,
      oProj: `${p}self_attn.o_proj${s}`,
      qNorm: `${p}self_attn.q_norm${s}.weight`,
      kNorm: `${p}self_attn.k_norm${s}.weight`,
      mlp: `${p}mlp${s}`,
    };
  },
  /** Layer scales of the geo expert (attention and MLP outputs of DINO rows). */
  layerScales: (i: number): { ls1: string; ls2: string } => ({
    ls1: `${LM}model.layers.${i}.ls1.gamma`,
    ls2: `${LM}model.layers.${i}.ls2.gamma`,
  }),
} as const;

export type DecoderKind = 'point' | 'camera' | 'global';
export const DECODER_KINDS: readonly DecoderKind[] = ['point', 'camera', 'global'];

const DECODER_PREFIX: Record<DecoderKind, string> = {
  point: 'point_decoder',
  camera: 'camera_decoder',
  global: 'global_points_decoder',
};

/** One geometry-decoder block; the cross-attention names exist in the global decoder only. */
export interface DecoderBlockNames {
  /** LayerNorm prefixes. */
  norm1: string;
  norm2: string;
  norm3: string;
  normY: string;
  /** Linear prefixes (all with bias). */
  qkv: string;
  proj: string;
  crossQ: string;
  crossK: string;
  crossV: string;
  crossProj: string;
  fc1: string;
  fc2: string;
}

export const decoderNames = {
  prefix: (kind: DecoderKind): string => DECODER_PREFIX[kind],
  /** Whether the decoder's blocks cross-attend to frame 0 (norm3, norm_y, cross_attn.*). */
  hasCrossAttention: (kind: DecoderKind): boolean => kind === 'global',
  block(kind: DecoderKind, i: number): DecoderBlockNames {
    const p = `${DECODER_PREFIX[kind]}.blocks.${i}.`;
    return {
      norm1: `${p}norm1`,
      norm2: `${p}norm2`,
      norm3: `${p}norm3`,
      normY: `${p}norm_y`,
      qkv: `${p}attn.qkv`,
      proj: `${p}attn.proj`,
      crossQ: `${p}cross_attn.q_proj`,
      crossK: `${p}cross_attn.k_proj`,
      crossV: `${p}cross_attn.v_proj`,
      crossProj: `${p}cross_attn.proj`,
      fc1: `${p}mlp.fc1`,
      fc2: `${p}mlp.fc2`,
    };
  },
  /** Linear prefix of the decoder's output projection. */
  linearOut: (kind: DecoderKind): string => `${DECODER_PREFIX[kind]}.linear_out`,
} as const;
