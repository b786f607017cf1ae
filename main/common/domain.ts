// Domain types shared by every process (main, preload, renderer, CLI).
// Coordinates: right-handed OpenCV camera convention (x right, y down, z forward)
// as the model predicts; three.js / export conversions happen at the edges.
// Matrices are row-major arrays of 16 numbers.

import type { Edit, QualityScoreName } from './edit-stack';
import type { StudioErrorInfo } from './errors';
import type { JobTiming } from './job-stages';

export type SceneKind = 'video' | 'photos' | 'pointcloud';

/** Where a scene came from. Video fields are null for photo folders and point clouds. */
export interface SourceInfo {
  fileName: string;
  sha256: string;
  bytes: number;
  container: string | null;
  codec: string | null;
  /** Stored (coded) size, before the rotation tag is applied. */
  codedWidth: number | null;
  codedHeight: number | null;
  /** Size as displayed, after rotation. */
  width: number | null;
  height: number | null;
  /** Display rotation in degrees (0, 90, 180, 270), clockwise. */
  rotation: number;
  fps: number | null;
  durationS: number | null;
  variableFrameRate: boolean;
  hasAudio: boolean;
}

export interface SceneSummary {
  id: string;
  name: string;
  kind: SceneKind;
  createdAt: string; // ISO 8601
  updatedAt: string;
  frameCount: number;
  pointCount: number;
  hasCameras: boolean;
  /** Frame whose thumbnail represents the scene, if it has frames. */
  thumbnailFrameId: string | null;
  /** Metres per model unit, once the user has set a known distance (the newest active scale edit of the stack). */
  metresPerUnit: number | null;
  /**
   * Row-major rigid 4x4 levelledFromScene once a ground plane is set: the
   * ground becomes y = 0 with its normal along −y (up in the OpenCV axes the
   * studio keeps; three.js +Y after the viewer's flip). Applied by the viewer
   * and by exports; stored points never change. The newest active ground edit of the stack.
   */
  groundAlignment: number[] | null;
}

export interface FrameInfo {
  id: string;
  index: number;
  /** Presentation time in the source video, seconds (null for photos). */
  timestampS: number | null;
  /** Size as displayed (rotation applied). */
  width: number;
  height: number;
  /** Variance of the Laplacian of the grey image: higher is sharper. */
  blurScore: number;
  /** Selected for reconstruction (blurry and near-duplicate frames are not). */
  selected: boolean;
  fileName: string | null;
}

export interface CameraInfo {
  frameId: string | null;
  frameIndex: number;
  /** 4x4 camera-to-world, row-major, OpenCV camera axes. */
  worldFromCamera: number[];
  /** Pinhole intrinsics in pixels of the image the model saw (null when unknown). */
  intrinsics: { fx: number; fy: number; cx: number; cy: number; width: number; height: number } | null;
}

export interface ReconstructionInfo {
  id: string;
  modelId: string;
  precision: string;
  executionProvider: string;
  createdAt: string;
  /** Resolution of the per-frame point maps. */
  mapWidth: number;
  mapHeight: number;
  timingsMs: Record<string, number>;
  /**
   * The frames this reconstruction was made from, in frame order. The scene's
   * selection may have changed since: a frame selected now but not listed here
   * (or the reverse) means the reconstruction is out of date with the selection.
   */
  usedFrameIds: string[];
}

export interface SceneDetail extends SceneSummary {
  source: SourceInfo | null;
  frames: FrameInfo[];
  cameras: CameraInfo[];
  /** Axis-aligned bounds of the point cloud in scene units, null when it has none. */
  bounds: { min: [number, number, number]; max: [number, number, number] } | null;
  reconstruction: ReconstructionInfo | null;
}

export type JobKind = 'import' | 'reconstruct' | 'export' | 'ask' | 'convert' | 'download';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobInfo {
  id: string;
  kind: JobKind;
  /** Short human title, e.g. "Import arkit-portrait.mov". */
  title: string;
  sceneId: string | null;
  status: JobStatus;
  /** 0..1 */
  progress: number;
  stage: string;
  /** One readable line: what happened or what is happening. */
  message: string;
  error: StudioErrorInfo | null;
  createdAt: string;
  finishedAt: string | null;
  /** Job-specific result (e.g. { sceneId } for an import). */
  result: Record<string, unknown> | null;
  /** While it runs: when its stage began and its estimate of the time left (job-stages.ts). */
  timing?: JobTiming;
}

export const MARKER_COLORS = ['red', 'blue', 'green', 'yellow', 'purple', 'orange'] as const;
export type MarkerColor = (typeof MARKER_COLORS)[number];

/** A coloured point the user placed on a frame, in displayed-frame pixels. */
export interface Marker {
  color: MarkerColor;
  frameIndex: number;
  x: number;
  y: number;
}

export interface GeometricEvidence {
  label: string;
  value: number;
  unit: 'metres' | 'model units';
}

export interface QaEntry {
  id: string;
  sceneId: string;
  question: string;
  answer: string;
  markers: Marker[];
  evidence: GeometricEvidence[];
  modelId: string;
  precision: string;
  executionProvider: string;
  timingsMs: Record<string, number>;
  createdAt: string;
}

export interface ModelInfo {
  id: string;
  name: string;
  path: string;
  precision: string;
  /** Whether the model can answer questions (has the chat graphs) and reconstruct. */
  capabilities: { reconstruct: boolean; chat: boolean };
  installedAt: string;
  active: boolean;
}

/** Weight precision a checkpoint is converted to (docs/precisions.md). */
export const MODEL_PRECISIONS = ['fp32', 'fp16', 'int8', 'int4'] as const;
export type ModelPrecision = (typeof MODEL_PRECISIONS)[number];
/** What a download or import may ask for: a precision, or `auto` (the most accurate one that fits this machine). */
export const PRECISION_CHOICES = ['auto', ...MODEL_PRECISIONS] as const;
export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];

/** One precision's cost for a checkpoint, known before converting. */
export interface PrecisionOption {
  precision: ModelPrecision;
  /** Bytes of the converted weights. */
  diskBytes: number;
  /** Peak memory of an 8-frame reconstruction at 518x294 (the model's input for a 16:9 video). */
  reconPeakBytes: number;
  /** Whether that reconstruction fits the memory available here (with headroom for the rest of the machine). */
  fits: boolean;
}

/** The precisions of a checkpoint on this machine and what `auto` would pick (models.precisions). */
export interface PrecisionAdvice {
  options: PrecisionOption[];
  auto: { precision: ModelPrecision; reason: string };
  /** Which memory the figures are held against: GPU memory when a GPU runs the model, else free RAM. */
  device: 'cpu' | 'gpu';
  availableBytes: number;
  /** The checkpoint the figures are for (a folder, or the official model before it is downloaded). */
  checkpoint: string;
}

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda';

/** One ONNX Runtime execution provider on this machine. */
export interface ExecutionProviderStatus {
  name: ExecutionProviderName;
  available: boolean;
  /** CPU model or GPU name, when known. */
  device?: string;
  /** System memory (CPU) or GPU memory, when known. */
  memoryBytes?: number;
  /** Why it is unavailable and how to enable it (or, when available, a caveat). */
  reason?: string;
  /** WebGPU on a software adapter (SwiftShader, lavapipe): usable when asked for, never chosen by auto. */
  software?: boolean;
  /** fp16 models compute in fp16 here, their weights fp16 on the device (WebGPU with shader-f16). */
  float16Compute?: boolean;
  /** The GPU shares the system memory (Apple silicon): the free RAM is its memory. */
  unifiedMemory?: boolean;
}

/** What the model runs on here: providers, the provider setting, and the active model's precision. */
export interface ModelRuntimeInfo {
  providers: ExecutionProviderStatus[];
  providerSetting: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  /** The provider a run uses under that setting; null when the setting names one that is unavailable. */
  provider: ExecutionProviderName | null;
  activeModel: ModelInfo | null;
  /** Precision of the active model (null without one). */
  precision: string | null;
}

/** What models.remove did. */
export interface ModelRemoval {
  modelId: string;
  /** False when the model folder lies outside the library (registered by path): it was left alone. */
  deletedFolder: boolean;
  /** The active model afterwards (another one is picked when the removed one was active). */
  active: ModelInfo | null;
}

export interface FfmpegInfo {
  source: 'setting' | 'env' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'system';
  ffmpegPath: string;
  ffprobePath: string;
  version: string;
}

export interface AppInfo {
  version: string;
  libraryPath: string;
  ffmpeg: FfmpegInfo | null;
  /** e.g. ['cpu'] or ['cuda', 'cpu'] */
  executionProviders: string[];
  mode: 'electron' | 'web' | 'cli';
}

/** An edit as the library holds it. */
export interface StoredEdit {
  id: string;
  /** 1-based position in the scene's stack. */
  seq: number;
  edit: Edit;
  createdAt: string;
}

/** A scene's edit stack and what it leaves (see blobPaths.editKeep). */
export interface SceneEditState {
  sceneId: string;
  /** Active edits, oldest first. */
  edits: StoredEdit[];
  /** Undone edits, the one redo brings back first. */
  redo: StoredEdit[];
  /** 'base': the edits mask the scene's own cloud; 'voxel': a voxel edit replaced it. */
  cloud: 'base' | 'voxel';
  /** Points of the edited cloud (the keep mask's length) and how many of them are kept. */
  pointCount: number;
  keptCount: number;
  /** Frames hidden by the latest hide-frames edit. */
  hiddenFrames: number[];
  /** Which quality filters this scene can use (map-based ones need a reconstruction). */
  availableScores: QualityScoreName[];
  /** Changes whenever the result changes; part of the blob URLs. */
  revision: string;
}

export interface CameraExportResult {
  /** The zip to download at blobPaths.export(exportId); null when the export went to a folder (outDir). */
  exportId: string | null;
  /** The folder written when scenes.exportCameras was given outDir, else null. */
  dir: string | null;
  /** The zip's file name, or the folder's name. */
  fileName: string;
  bytes: number;
  format: 'colmap' | 'nerfstudio';
  cameraCount: number;
  pointCount: number;
}

export interface ExportResult {
  exportId: string;
  fileName: string;
  bytes: number;
  format: 'ply' | 'glb';
  pointCount: number;
}

/** Server-pushed events; every transport delivers the same stream. */
/** What of a scene an event says changed: name/scale/ground, the point cloud, the frames, the edit stack. */
export type ScenePart = 'meta' | 'points' | 'frames' | 'edits';

export type StudioEvent =
  | { type: 'job'; job: JobInfo }
  /**
   * Scenes changed. With a sceneId, only that scene, and only the parts named
   * (a rename touches 'meta', not 'points'): a viewer refetches only what it
   * shows from those parts. Without one (a reconnect), anything may have.
   */
  | { type: 'scenes-changed'; sceneId?: string; parts?: ScenePart[] }
  | { type: 'qa-token'; jobId: string; sceneId: string; text: string };
