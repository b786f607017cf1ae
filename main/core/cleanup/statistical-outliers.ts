// Statistical outlier removal: a point whose mean distance to its k nearest
// neighbours is far above the cloud's typical value is a floater. The score of
// a point is that mean distance as a z-score, (d̄ᵢ − μ) / σ over all points, so
// the classic rule "remove if d̄ᵢ > μ + k·σ" is "keep if score <= k".
//
// Neighbours come from the voxel grid (spatial-hash.ts) with cells sized to hold
// about k points. For each cell we gather the 3x3x3 block around it once and
// scan it for every point of the cell: a point lies at least one cell size from
// the block's border, so when its k-th neighbour is closer than that the answer
// is exact. Otherwise the point searches a hierarchy of coarser grids (cells
// 4x larger each level, built lazily), which keeps isolated floaters exact
// without scanning thousands of empty fine cells around each.

import { runSliced, type CleanupTaskOptions } from './cleanup-task';
import { buildVoxelGrid, cellSizeForDensity, finiteBounds, type VoxelGrid } from './spatial-hash';

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

/** Each coarser level of the grid hierarchy has cells this many times larger. */
const LEVEL_FACTOR = 4;
/** Most points scanned for one isolated point (see scanCell). */
const CANDIDATE_BUDGET = 4096;

/** The 27 cell offsets of a 3x3x3 block, nearest first, so the k-best list tightens early. */
const BLOCK_OFFSETS: Array<[number, number, number]> = [];
for (let dz = -1; dz <= 1; dz++)
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) BLOCK_OFFSETS.push([dx, dy, dz]);
BLOCK_OFFSETS.sort(
  (a, b) =>
    Math.abs(a[0]) + Math.abs(a[1]) + Math.abs(a[2]) - (Math.abs(b[0]) + Math.abs(b[1]) + Math.abs(b[2])),
);

class NeighbourSearch {
  private readonly best: Float64Array;
  /** levels[0] is the fine grid; coarser ones are built only when an isolated point needs them. */
  private readonly levels: VoxelGrid[];
  private readonly extent: number;
  /** The block's cells for the cell being scanned (ids and integer coordinates). */
  private readonly blockCells = new Int32Array(27);
  private readonly blockX = new Int32Array(27);
  private readonly blockY = new Int32Array(27);
  private readonly blockZ = new Int32Array(27);
  private blockSize = 0;
  /** Merge pointers into the fine grid's sorted cell keys, one per block offset (cells are scanned in key order). */
  private readonly keyPointers = new Int32Array(27);
  private readonly keyDeltas: Float64Array | null = null;

  constructor(
    private readonly positions: Float32Array,
    grid: VoxelGrid,
    private readonly k: number,
  ) {
    this.best = new Float64Array(k);
    this.levels = [grid];
    if (grid.keyStrides) {
      const { strideY, strideZ } = grid.keyStrides;
      this.keyDeltas = new Float64Array(
        BLOCK_OFFSETS.map(([dx, dy, dz]) => dx + dy * strideY + dz * strideZ),
      );
    }
    const bounds = finiteBounds(positions, grid.pointCount);
    this.extent = bounds
      ? Math.max(bounds.max[0] - bounds.min[0], bounds.max[1] - bounds.min[1], bounds.max[2] - bounds.min[2])
      : 0;
  }

  private level(n: number): VoxelGrid {
    while (this.levels.length <= n) {
      // Built from the finer level's cell-sorted copy: consecutive points then
      // fall in the same coarse cell, so the build stays in cache. Its order is
      // mapped back to the original point ids.
      const finer = this.levels[this.levels.length - 1];
      const coarse = buildVoxelGrid(finer.sortedPositions, finer.order.length, finer.cellSize * LEVEL_FACTOR);
      const order = new Uint32Array(coarse.order.length);
      for (let j = 0; j < order.length; j++) order[j] = finer.order[coarse.order[j]];
      this.levels.push({ ...coarse, order, pointCount: finer.pointCount });
    }
    return this.levels[n];
  }

  /** Finds the occupied cells of the 3x3x3 block around (x, y, z), nearest first; returns their point count. */
  private collectBlock(grid: VoxelGrid, x: number, y: number, z: number): number {
    let n = 0,
      points = 0;
    for (const [dx, dy, dz] of BLOCK_OFFSETS) {
      const cell = grid.find(x + dx, y + dy, z + dz);
      if (cell < 0) continue;
      this.blockCells[n] = cell;
      this.blockX[n] = x + dx;
      this.blockY[n] = y + dy;
      this.blockZ[n] = z + dz;
      points += grid.cellStart[cell + 1] - grid.cellStart[cell];
      n++;
    }
    this.blockSize = n;
    return points;
  }

  /**
   * The fine block of `cell` without hashing: cells are numbered in key order
   * and scanned in that order, so each neighbour offset's key K + Δ grows
   * monotonically and a merge pointer per offset finds it in the sorted keys.
   */
  private collectBlockByKeys(grid: VoxelGrid, cell: number, keys: Float64Array, deltas: Float64Array): void {
    const key = keys[cell];
    const cells = grid.cellCount;
    let n = 0;
    for (let o = 0; o < 27; o++) {
      const target = key + deltas[o];
      let at = this.keyPointers[o];
      while (at < cells && keys[at] < target) at++;
      this.keyPointers[o] = at;
      if (at < cells && keys[at] === target) {
        this.blockCells[n] = at;
        this.blockX[n] = grid.cellX[at];
        this.blockY[n] = grid.cellY[at];
        this.blockZ[n] = grid.cellZ[at];
        n++;
      }
    }
    this.blockSize = n;
  }

  /**
   * k smallest squared distances from point p (at px, py, pz) to the points of
   * the collected block, skipping cells whose box is farther than the current
   * k-th best. Returns how many neighbours were found.
   */
  private nearest(grid: VoxelGrid, p: number, px: number, py: number, pz: number): number {
    const { best, k } = this;
    const h = grid.cellSize;
    const sorted = grid.sortedPositions,
      order = grid.order,
      cellStart = grid.cellStart;
    best.fill(Infinity);
    let found = 0;
    let worst = Infinity;
    for (let b = 0; b < this.blockSize; b++) {
      if (worst !== Infinity) {
        // Squared distance from the point to the cell's box.
        const x0 = this.blockX[b] * h,
          y0 = this.blockY[b] * h,
          z0 = this.blockZ[b] * h;
        const ex = px < x0 ? x0 - px : px > x0 + h ? px - x0 - h : 0;
        const ey = py < y0 ? y0 - py : py > y0 + h ? py - y0 - h : 0;
        const ez = pz < z0 ? z0 - pz : pz > z0 + h ? pz - z0 - h : 0;
        if (ex * ex + ey * ey + ez * ez >= worst) continue;
      }
      const cell = this.blockCells[b];
      for (let j = cellStart[cell], end = cellStart[cell + 1]; j < end; j++) {
        const dx = sorted[3 * j] - px,
          dy = sorted[3 * j + 1] - py,
          dz = sorted[3 * j + 2] - pz;
        const d2 = dx * dx + dy * dy + dz * dz;
        if (d2 >= worst || order[j] === p) continue;
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
    }
    return found;
  }

  /** Lower bound of the mean k-NN distance when only a ball of radius `covered` was searched. */
  private lowerBoundMean(found: number, covered: number): number {
    let sum = 0;
    for (let j = 0; j < found; j++) sum += Math.min(Math.sqrt(this.best[j]), covered);
    return (sum + (this.k - found) * covered) / this.k;
  }

  private meanOfBest(found: number): number {
    let sum = 0;
    for (let j = 0; j < found; j++) sum += Math.sqrt(this.best[j]);
    return sum / Math.max(1, found);
  }

  scanCell(cell: number, out: Float32Array): void {
    const grid = this.levels[0];
    const { k } = this;
    const h = grid.cellSize;
    const sorted = grid.sortedPositions;
    if (grid.cellKeys && this.keyDeltas) this.collectBlockByKeys(grid, cell, grid.cellKeys, this.keyDeltas);
    else this.collectBlock(grid, grid.cellX[cell], grid.cellY[cell], grid.cellZ[cell]);
    let pending: number[] | null = null;
    for (let j = grid.cellStart[cell], end = grid.cellStart[cell + 1]; j < end; j++) {
      const p = grid.order[j];
      const found = this.nearest(grid, p, sorted[3 * j], sorted[3 * j + 1], sorted[3 * j + 2]);
      // Exact when the k-th neighbour is within one cell: the block holds every point that close.
      if (found === k && this.best[k - 1] <= h * h) out[p] = this.meanOfBest(k);
      else (pending ??= []).push(p);
    }
    if (!pending) return;
    // Points whose k-th neighbour lies farther search coarser grids (cells 4x,
    // 16x, … larger) until it lies within one cell of that level (exact), or
    // the level's block spans the whole cloud. A block holding more than
    // CANDIDATE_BUDGET points is not scanned: the point is isolated by any
    // measure and gets the lower bound of its mean distance (neighbours unseen
    // so far count at the radius already searched), which ranks it as far as
    // the filter needs.
    for (const p of pending) {
      const px = this.positions[3 * p],
        py = this.positions[3 * p + 1],
        pz = this.positions[3 * p + 2];
      let covered = h;
      for (let level = 1; ; level++) {
        const coarse = this.level(level);
        const size = coarse.cellSize;
        const points = this.collectBlock(
          coarse,
          Math.floor(px / size),
          Math.floor(py / size),
          Math.floor(pz / size),
        );
        if (points > CANDIDATE_BUDGET && size < this.extent) {
          this.collectBlock(grid, grid.cellX[cell], grid.cellY[cell], grid.cellZ[cell]);
          out[p] = this.lowerBoundMean(this.nearest(grid, p, px, py, pz), covered);
          break;
        }
        const found = this.nearest(coarse, p, px, py, pz);
        if (size >= this.extent || (found === k && this.best[k - 1] <= size * size)) {
          out[p] = this.meanOfBest(found);
          break;
        }
        covered = size;
      }
    }
  }
}
