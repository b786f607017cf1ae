// The benchmark sections `npm run bench` runs, in order. Each lives beside the
// code it measures' owner; pass section names as arguments to run a subset.
import type { BenchSection } from './bench-types';

export const benchSections: Record<string, () => Promise<BenchSection>> = {};
