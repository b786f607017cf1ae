// Typed, user-facing errors. Every error a user can cause (bad file, missing
// model, not enough memory) is a StudioError with a plain message and a fix.
// They cross every transport (IPC, HTTP, CLI) as StudioErrorInfo.

export type StudioErrorCode =
  | 'invalid-input' // an API input failed its schema
  | 'not-found' // scene, frame, job, model or file id does not exist
  | 'unreadable-path' // the file or folder cannot be read (missing, permissions)
  | 'unsupported-file' // not a video, photo or point cloud we can read
  | 'empty-file'
  | 'corrupt-media' // truncated or damaged video/image/point cloud
  | 'no-video-stream' // e.g. an audio-only file
  | 'too-few-frames' // the video is too short for the requested frame count
  | 'ffmpeg-missing'
  | 'model-missing' // no converted model installed / model folder absent
  | 'model-corrupt' // checkpoint or converted model fails validation
  | 'already-installed' // the same model (checkpoint and precision) is installed; replace it explicitly
  | 'insufficient-memory'
  | 'disk-full'
  | 'cancelled'
  | 'busy'
  | 'unauthorized'
  | 'internal';

export interface StudioErrorInfo {
  code: StudioErrorCode;
  message: string;
  /** What the user can do about it, in one sentence. */
  fix: string;
}

export class StudioError extends Error implements StudioErrorInfo {
  readonly code: StudioErrorCode;
  readonly fix: string;

  constructor(code: StudioErrorCode, message: string, fix: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StudioError';
    this.code = code;
    this.fix = fix;
  }

  toInfo(): StudioErrorInfo {
    return { code: this.code, message: this.message, fix: this.fix };
  }

  static fromInfo(info: StudioErrorInfo): StudioError {
    return new StudioError(info.code, info.message, info.fix);
  }
}

const STUDIO_ERROR_CODES: ReadonlySet<string> = new Set<StudioErrorCode>([
  'invalid-input',
  'not-found',
  'unreadable-path',
  'unsupported-file',
  'empty-file',
  'corrupt-media',
  'no-video-stream',
  'too-few-frames',
  'ffmpeg-missing',
  'model-missing',
  'model-corrupt',
  'insufficient-memory',
  'disk-full',
  'cancelled',
  'busy',
  'unauthorized',
  'internal',
]);

/**
 * A StudioErrorInfo has one of our codes: a Node or SQLite error also has a
 * string `code` and `message` (ENOSPC, SQLITE_FULL) and must not pass for one.
 */
export function isStudioErrorInfo(value: unknown): value is StudioErrorInfo {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StudioErrorInfo).code === 'string' &&
    STUDIO_ERROR_CODES.has((value as StudioErrorInfo).code) &&
    typeof (value as StudioErrorInfo).message === 'string'
  );
}

/** Error codes meaning "no space left": the OS's (ENOSPC, quota EDQUOT) and SQLite's (SQLITE_FULL). */
const OUT_OF_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether an error (or any error in its cause chain) says the disk is full. */
export function isOutOfSpaceError(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUT_OF_SPACE_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Anything thrown, as a StudioErrorInfo a user can read (internal errors keep their message). */
export function toStudioErrorInfo(error: unknown): StudioErrorInfo {
  if (error instanceof StudioError) return error.toInfo();
  if (isStudioErrorInfo(error)) return { code: error.code, message: error.message, fix: error.fix ?? '' };
  const message = error instanceof Error ? error.message : String(error);
  if (isOutOfSpaceError(error)) {
    return {
      code: 'disk-full',
      message: `The disk is full, so nothing was written (${message}).`,
      fix: 'Free some disk space on the drive that holds the library or the output, then try again.',
    };
  }
  return {
    code: 'internal',
    message: `Unexpected error: ${message}`,
    fix: 'Try again; if it keeps happening, report it with the log line of the job.',
  };
}

export const cancelledError = (what: string): StudioError =>
  new StudioError('cancelled', `${what} was cancelled.`, 'Start it again when you are ready.');
