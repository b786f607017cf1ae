// The shared data beside the checkout (golden sets, sample media, bench configs).
// The bench runs as out/main/bench.js, so ../shared is three folders up.
import { join } from 'node:path';

export const SHARED_DIR = process.env.G2STUDIO_SHARED ?? join(__dirname, '..', '..', '..', 'shared');
