// Types of a golden folder's manifest.json and of a verification report.

export interface GoldenTensorSpec {
  file: string;
  shape: number[];
  dtype: string;
  role?: string;
  meaning?: string;
  tolerance: { compare: 'exact' | 'allclose'; atol?: number; rtol?: number; ref_absmax?: number };
}

export interface GoldenManifest {
  name: string;
  format_version: number;
  checkpoint?: { dir: string; sha256?: Record<string, string>; special_token_ids?: Record<string, number> };
  recon?: { images: string[]; prompt?: string; text_prefill_ids?: number[] };
  chat?: Record<string, unknown> & { images?: string[] };
  tensors: Record<string, GoldenTensorSpec>;
}

export interface GoldenReportEntry {
  name: string;
  maxAbs: number;
  maxRel: number;
  atol: number;
  rtol: number;
  pass: boolean;
  /** Why the tensor was not compared (not produced by this runtime, …). */
  skipped?: string;
  note?: string;
}

export interface GoldenReport {
  entries: GoldenReportEntry[];
  pass: boolean;
}

/**
 * What main/model/chat/verify-chat.ts exports (chat helper): it runs the
 * manifest's chat inputs on the converted model in `modelDir` and returns one
 * entry per `chat.*` tensor it produces.
 */
export type VerifyChatGolden = (
  goldenDir: string,
  manifest: GoldenManifest,
  modelDir: string,
  opts: { dtype: 'fp32' | 'fp16'; signal?: AbortSignal },
) => Promise<GoldenReportEntry[]>;
