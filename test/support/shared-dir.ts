// The shared data beside the checkout (golden sets, sample media, bench configs):
// ../shared here and in CI; G2STUDIO_SHARED points elsewhere.
import { fileURLToPath } from 'node:url';

export const SHARED_DIR =
  process.env.G2STUDIO_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));
