// The graphs a verify-golden run of g2vlm-tiny-a loads: the reconstruction's
// and the chat's, with the LLM as one graph (llm_one). Tests that check what
// each graph of such a run did (its fp16-compute form, its CPU nodes) list them from here.
export const GOLDEN_RUN_GRAPHS = [
  'dino',
  'llm_one',
  'point_decoder',
  'camera_decoder',
  'global_decoder',
  'vision_tower',
  'embed_tokens',
] as const;
