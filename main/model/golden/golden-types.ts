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
  /** Test-vocabulary convention: prose ("id % M … 151643+k -> B+k") or { ordinary_modulus, special_base }. */
  token_id_mapping?: unknown;
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
  /** The provider(s) the graphs really ran on ("cpu", "webgpu", "webgpu+cpu" when some fell back). */
  executionProvider: string;
  /** Why graphs asked to run on a GPU ran on the CPU (empty when none did). */
  providerNotes: string[];
  /**
   * GPU runs: nodes ONNX Runtime ran on the CPU, per graph that ran on the GPU
   * provider (runtime/node-placement.ts); empty on the CPU.
   */
  cpuNodes: Record<string, number>;
  /** The same nodes by op type, per graph. */
  cpuNodeOps: Record<string, Record<string, number>>;
}

/** Where the chat verifier runs and how it says what really ran. */
export interface VerifyChatOptions {
  dtype: 'fp32' | 'fp16';
  signal?: AbortSignal;
  executionProvider?: 'cpu' | 'cuda' | 'webgpu' | 'auto';
  /** Told the provider(s) the chat graphs run on, once they are loaded. */
  onProvider?: (executionProvider: string, notes: string[]) => void;
}
