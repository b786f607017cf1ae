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
