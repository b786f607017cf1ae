// How long the studio keeps the files it writes into <library>/exports for
// download (PLY/GLB point clouds, COLMAP/nerfstudio zips). They are copies in
// transit, not part of the library: each one is deleted as soon as its
// download has been sent in full, and one that is never downloaded is deleted
// once it is older than EXPORT_MAX_AGE_HOURS (checked when the studio starts
// and every hour while it runs). The Export menu and the README say the same,
// from the words here.

/** An export nobody downloaded is deleted once it is this many hours old. */
export const EXPORT_MAX_AGE_HOURS = 24;

export const EXPORT_MAX_AGE_MS = EXPORT_MAX_AGE_HOURS * 3600 * 1000;

/** The rule in one sentence, shown next to the download. */
export const EXPORT_LIFETIME_NOTE =
  `The studio keeps no copy: each export is deleted from the library once its download finishes, ` +
  `and one never downloaded after ${EXPORT_MAX_AGE_HOURS} hours.`;
