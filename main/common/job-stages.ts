// What a job's stage id means to a person. Stage ids are short and stable
// (they are stored with jobs and asserted by tests); the words shown for them
// live here, once, for the Jobs panel and the CLI's progress bar.

const STAGE_NAMES: Record<string, string> = {
  queued: 'Waiting for the jobs before it',
  starting: 'Starting',
  inspect: 'Inspecting the file',
  probe: 'Inspecting the video',
  scan: 'Finding the photos',
  decode: 'Reading frames',
  score: 'Picking sharp frames',
  cameras: 'Reading the cameras',
  hash: 'Fingerprinting the source',
  hashing: 'Fingerprinting the source',
  read: 'Reading points',
  write: 'Writing the file',
  store: 'Saving to the library',
  preprocess: 'Preparing the frames',
  load: 'Loading the model',
  dino: 'Looking at each frame',
  'geometry-prefill': 'Understanding the scene',
  decoders: 'Building points',
  heads: 'Building points and cameras',
  vision: 'Looking at the images',
  prefill: 'Reading the question',
  edits: 'Applying edits',
  images: 'Writing images',
  points: 'Writing points',
  zip: 'Packing the download',
  listing: 'Listing the model files',
  download: 'Downloading',
  downloading: 'Downloading',
  verify: 'Checking the download',
  convert: 'Converting the model',
  weights: 'Writing weights',
  tokenizer: 'Copying the tokenizer',
  prepare: 'Preparing',
  compare: 'Comparing with the reference',
  finishing: 'Finishing',
  done: 'Done',
};

/** Stage ids that mean something else in one kind of job. */
const STAGE_NAMES_BY_KIND: Record<string, Record<string, string>> = {
  // A question's 'decode' writes the answer token by token; an import's reads video frames.
  ask: { decode: 'Writing the answer' },
};

/** The words for a stage id; an id without words is shown as it is, never hidden. */
export function stageName(stage: string, jobKind?: string): string {
  if (!stage) return 'Waiting';
  const named = (jobKind && STAGE_NAMES_BY_KIND[jobKind]?.[stage]) ?? STAGE_NAMES[stage];
  return named ?? stage.charAt(0).toUpperCase() + stage.slice(1).replace(/-/g, ' ');
}

/**
 * Where a job's estimate of its time left comes from. 'measured': this
 * machine's measured rate of each remaining stage (for this model and
 * provider); 'estimating': some stage has no history yet, so the bar moves on
 * a conservative guess and no time is promised; 'overdue': the current stage
 * has run past its measured time, so no time is promised either.
 */
export type StageEstimate = 'measured' | 'estimating' | 'overdue';

/** A running job's clock (sent with its progress; not stored). */
export interface JobTiming {
  /** ISO time the current stage began. */
  stageStartedAt: string;
  /** Seconds the job is expected to need from the moment it was sent; null when not promised. */
  secondsLeft?: number | null;
  /** Absent for jobs whose work gives no estimate (the Jobs panel then uses the stage's observed rate). */
  estimate?: StageEstimate;
  /** Set when secondsLeft ends before the job does: 'answer' = until a question's answer starts (its length is unknown). */
  leftUntil?: 'answer';
}

/**
 * How far through a stage that runs as one indivisible step (one ONNX
 * Runtime run) to show it, from its expected duration: linear to 90 % at
 * the expected time, then creeping towards (never reaching) 98 %, so an
 * overrun still moves and the stage's end is only shown when it has ended.
 */
export function heartbeatFraction(elapsedMs: number, expectedMs: number): number {
  if (!(elapsedMs > 0) || !(expectedMs > 0)) return 0;
  if (elapsedMs <= expectedMs) return (0.9 * elapsedMs) / expectedMs;
  // Clamped: in floating point the curve does reach its asymptote, after ~40 expected times.
  return Math.min(0.979, 0.9 + 0.08 * (1 - Math.exp(-(elapsedMs - expectedMs) / expectedMs)));
}

/** The words for a job's time left: a duration only when measured, never a guess dressed as one. */
export function timeLeftWords(timing: JobTiming | undefined, secondsLeft: number | null): string | null {
  if (timing?.estimate === 'estimating') return 'estimating time left';
  if (timing?.estimate === 'overdue') return 'taking longer than before';
  if (secondsLeft === null || !Number.isFinite(secondsLeft)) return null;
  if (timing?.leftUntil === 'answer') return `about ${formatDuration(secondsLeft)} until the answer starts`;
  return `about ${formatDuration(secondsLeft)} left`;
}

/** "8 s", "2 min 05 s", "1 h 03 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
