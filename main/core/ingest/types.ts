// What ingest hands to the library: one decoded frame of a video or one photo,
// with its encoded image, a small thumbnail and the sharpness score used to pick
// frames. Sizes are as displayed (rotation / EXIF orientation applied).

export interface IngestedFrame {
  /** Position among the frames returned by one import (0-based, time / name order). */
  index: number;
  /** Presentation time in the source video, seconds (null for photos). */
  timestampS: number | null;
  width: number;
  height: number;
  /** The frame as the model will see it: JPEG q92 for video frames, the original bytes for photos. */
  image: Buffer;
  imageMime: 'image/jpeg' | 'image/png';
  /** JPEG, about 256 px on the long side. */
  thumbnail: Buffer;
  /** Variance of the Laplacian of a downscaled grey image: higher is sharper. */
  blurScore: number;
  /** Chosen for reconstruction (blurry and near-duplicate video frames are not). */
  selected: boolean;
  fileName: string | null;
}

/** Progress callback shared by the importers: progress in 0..1 and the stage name. */
export type IngestProgress = (progress: number, stage: string) => void;
