// Statistical outlier removal: a point whose mean distance to its k nearest
// neighbours is far above the cloud's typical value is a floater. The score of
// a point is that mean distance as a z-score, (d̄ᵢ − μ) / σ over all points, so
// the classic rule "remove if d̄ᵢ > μ + k·σ" is "keep if score <= k".
//
// Neighbours come from the voxel grid (spatial-hash.ts) with cells sized to hold
// about k points. For each cell we gather the 3x3x3 block around it once and
// scan it for every point of the cell: a point lies at least one cell size from
// the block's border, so when its k-th neighbour is closer than that the answer
// is exact. Otherwise that point searches wider blocks (5³, 9³, 13³); a point
// still lacking neighbours there is isolated, and its missing neighbours count
// at the searched radius (a lower bound, which is all the ranking needs).

import { runSliced, type CleanupTaskOptions } from './cleanup-task';
import { buildVoxelGrid, cellSizeForDensity, type VoxelGrid } from './spatial-hash';

export interface OutlierOptions extends CleanupTaskOptions {
  /** k, the number of neighbours averaged (default 8). */
  neighbours?: number;
}

/** Mean distance to the k nearest neighbours of every point (NaN for non-finite points). */
export async function meanNeighbourDistances(
  positions: Float32Array,
  count: number,
  opts: OutlierOptions = {},
): Promise<Float32Array> {
  const k = Math.max(1, Math.floor(opts.neighbours ?? 8));
  const result = new Float32Array(count).fill(NaN);
  if (count < 2) return result;
  const cellSize = cellSizeForDensity(positions, count, k);
  const grid = buildVoxelGrid(positions, count, cellSize);
  const search = new NeighbourSearch(positions, grid, k);
  await runSliced(
    grid.cellCount,
    (from, to) => {
      for (let c = from; c < to; c++) search.scanCell(c, result);
    },
    opts,
    'outliers',
    'Outlier scoring',
  );
  return result;
}

/** Outlier score per point: (mean kNN distance − μ) / σ. Non-finite points score +Infinity. */
export async function statisticalOutlierScores(
  positions: Float32Array,
  count: number,
  opts: OutlierOptions = {},
): Promise<Float32Array> {
  const distances = await meanNeighbourDistances(positions, count, opts);
  let sum = 0,
    sumSq = 0,
    n = 0;
  for (let i = 0; i < count; i++) {
    const d = distances[i];
    if (Number.isNaN(d)) continue;
    sum += d;
    sumSq += d * d;
    n++;
  }
  const mean = n > 0 ? sum / n : 0;
  const sigma = n > 1 ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : 0;
  const scores = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const d = distances[i];
    scores[i] = Number.isNaN(d) ? Infinity : sigma > 0 ? (d - mean) / sigma : 0;
  }
  return scores;
}

/** Widest block searched, in cells from the point's own (a 13³ block). */
const MAX_RING = 6;

class NeighbourSearch {
  private candidates = new Float32Array(3 * 1024);
  private candidateIndex = new Uint32Array(1024);
  private candidateCount = 0;
  private readonly best: Float64Array;

  constructor(
    private readonly positions: Float32Array,
    private readonly grid: VoxelGrid,
    private readonly k: number,
  ) {
    this.best = new Float64Array(k);
  }

  /** Gathers the points of the (2r+1)³ block of cells around cell coordinates (x, y, z). */
  private gather(x: number, y: number, z: number, r: number): void {
    const { grid, positions } = this;
    this.candidateCount = 0;
    for (let dz = -r; dz <= r; dz++)
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const cell = grid.find(x + dx, y + dy, z + dz);
          if (cell < 0) continue;
          const start = grid.cellStart[cell],
            end = grid.cellStart[cell + 1];
          this.reserve(this.candidateCount + (end - start));
          for (let j = start; j < end; j++) {
            const p = grid.order[j];
            const at = 3 * this.candidateCount;
            this.candidates[at] = positions[3 * p];
            this.candidates[at + 1] = positions[3 * p + 1];
            this.candidates[at + 2] = positions[3 * p + 2];
            this.candidateIndex[this.candidateCount++] = p;
          }
        }
  }

  private reserve(n: number): void {
    if (n <= this.candidateIndex.length) return;
    let size = this.candidateIndex.length;
    while (size < n) size *= 2;
    const candidates = new Float32Array(3 * size);
    candidates.set(this.candidates.subarray(0, 3 * this.candidateCount));
    const index = new Uint32Array(size);
    index.set(this.candidateIndex.subarray(0, this.candidateCount));
    this.candidates = candidates;
    this.candidateIndex = index;
  }

  /** k smallest squared distances from point p to the gathered candidates; returns how many were found. */
  private nearest(p: number): number {
    const { best, k, candidates, candidateIndex } = this;
    best.fill(Infinity);
    const px = this.positions[3 * p],
      py = this.positions[3 * p + 1],
      pz = this.positions[3 * p + 2];
    let found = 0;
    let worst = Infinity;
    for (let j = 0; j < this.candidateCount; j++) {
      if (candidateIndex[j] === p) continue;
      const dx = candidates[3 * j] - px,
        dy = candidates[3 * j + 1] - py,
        dz = candidates[3 * j + 2] - pz;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 >= worst) continue;
      // Insertion into the sorted k-best list.
      let at = k - 1;
      while (at > 0 && best[at - 1] > d2) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = d2;
      worst = best[k - 1];
      if (found < k) found++;
    }
    return found;
  }

  private meanOfBest(found: number, missingDistance: number): number {
    let sum = 0;
    for (let j = 0; j < found; j++) sum += Math.sqrt(this.best[j]);
    return (sum + (this.k - found) * missingDistance) / this.k;
  }

  scanCell(cell: number, out: Float32Array): void {
    const { grid, k } = this;
    const h = grid.cellSize;
    const x = grid.cellX[cell],
      y = grid.cellY[cell],
      z = grid.cellZ[cell];
    const start = grid.cellStart[cell],
      end = grid.cellStart[cell + 1];
    this.gather(x, y, z, 1);
    let needWider: number[] | null = null;
    for (let j = start; j < end; j++) {
      const p = grid.order[j];
      const found = this.nearest(p);
      if (found === k && this.best[k - 1] <= h * h) out[p] = this.meanOfBest(k, 0);
      else (needWider ??= []).push(p);
    }
    if (!needWider) return;
    // Rings grow until the k-th neighbour lies inside the guaranteed radius
    // (exact) or MAX_RING is reached; isolated points are few, so this is cheap.
    let pending = needWider;
    for (let r = 2; pending.length > 0; r = Math.min(MAX_RING, r * 2)) {
      this.gather(x, y, z, r);
      const still: number[] = [];
      for (const p of pending) {
        const found = this.nearest(p);
        const covered = r * h;
        if ((found === k && this.best[k - 1] <= covered * covered) || r === MAX_RING) {
          // Past MAX_RING the point is isolated: neighbours the block did not
          // hold count at its radius, a lower bound that still ranks it as far.
          out[p] = this.meanOfBest(found, covered);
        } else still.push(p);
      }
      pending = still;
    }
  }
}
