// A voxel-grid spatial index written for point clouds of 1-5M points: points are
// bucketed by integer cell (floor(p / cellSize)) through an open-addressing hash
// table over the occupied cells only, so memory follows the point count, not the
// bounding volume (a scene with a few far-away floaters would make a dense grid
// explode). Points are then counting-sorted by cell so each cell's points are
// contiguous, which keeps neighbour scans cache-friendly.

export interface VoxelGrid {
  cellSize: number;
  /** Number of occupied cells. */
  cellCount: number;
  /** Integer cell coordinates per occupied cell (cellCount each). */
  cellX: Int32Array;
  cellY: Int32Array;
  cellZ: Int32Array;
  /** Points of cell c are order[cellStart[c] .. cellStart[c + 1]). */
  cellStart: Uint32Array;
  /** Point indices sorted by cell. */
  order: Uint32Array;
  /** xyz of the points in `order` order: neighbour scans read contiguous memory, not scattered points. */
  sortedPositions: Float32Array;
  /**
   * Cells are numbered in row-major order of their coordinates when the grid's
   * extent allows (then `cellKeys[c]` = (x − x0) + (y − y0)·strideY + (z − z0)·strideZ,
   * strictly increasing); null otherwise (cells in first-seen order).
   */
  cellKeys: Float64Array | null;
  keyStrides: { x0: number; y0: number; z0: number; strideY: number; strideZ: number } | null;
  /** Number of points the grid was built over (finite or not). */
  pointCount: number;
  /** Cell id for integer cell coordinates, or -1 when that cell holds no point. */
  find(x: number, y: number, z: number): number;
}

/** Mixing of three int32 cell coordinates (large odd multipliers, then xor-fold). */
function hashCell(x: number, y: number, z: number): number {
  let h = Math.imul(x, 0x8da6b343) ^ Math.imul(y, 0xd8163841) ^ Math.imul(z, 0xcb1ab31f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Builds the grid over `count` xyz triples. Points with a non-finite
 * coordinate are not indexed (pointCell = 0xffffffff).
 */
export function buildVoxelGrid(positions: Float32Array, count: number, cellSize: number): VoxelGrid {
  if (!(cellSize > 0) || !Number.isFinite(cellSize))
    throw new RangeError(`cellSize must be > 0, got ${cellSize}`);
  const inv = 1 / cellSize;
  // Open addressing with the key stored beside its cell id ([x, y, z, cell] per
  // slot), so a probe touches one cache line; the table grows to stay under
  // half full (starting small: a smaller table stays in cache).
  let tableSize = 1024;
  while (tableSize < count / 16) tableSize *= 2;
  let mask = tableSize - 1;
  let table = new Int32Array(tableSize * 4);
  for (let s = 3; s < table.length; s += 4) table[s] = -1;
  const capacity = Math.max(16, count);
  const cellX = new Int32Array(capacity);
  const cellY = new Int32Array(capacity);
  const cellZ = new Int32Array(capacity);
  const cellCountOf = new Uint32Array(capacity + 1);
  const pointCell = new Uint32Array(count);
  let cellCount = 0;

  const grow = (): void => {
    tableSize *= 2;
    mask = tableSize - 1;
    table = new Int32Array(tableSize * 4);
    for (let s = 3; s < table.length; s += 4) table[s] = -1;
    for (let c = 0; c < cellCount; c++) {
      let slot = hashCell(cellX[c], cellY[c], cellZ[c]) & mask;
      while (table[4 * slot + 3] !== -1) slot = (slot + 1) & mask;
      table[4 * slot] = cellX[c];
      table[4 * slot + 1] = cellY[c];
      table[4 * slot + 2] = cellZ[c];
      table[4 * slot + 3] = c;
    }
  };

  for (let i = 0; i < count; i++) {
    const px = positions[3 * i],
      py = positions[3 * i + 1],
      pz = positions[3 * i + 2];
    if (!Number.isFinite(px) || !Number.isFinite(py) || !Number.isFinite(pz)) {
      pointCell[i] = 0xffffffff;
      continue;
    }
    const x = Math.floor(px * inv),
      y = Math.floor(py * inv),
      z = Math.floor(pz * inv);
    let slot = hashCell(x, y, z) & mask;
    for (;;) {
      const at = 4 * slot;
      const c = table[at + 3];
      if (c === -1) {
        table[at] = x;
        table[at + 1] = y;
        table[at + 2] = z;
        table[at + 3] = cellCount;
        cellX[cellCount] = x;
        cellY[cellCount] = y;
        cellZ[cellCount] = z;
        pointCell[i] = cellCount;
        cellCountOf[cellCount]++;
        cellCount++;
        if (cellCount * 2 > tableSize) grow();
        break;
      }
      if (table[at] === x && table[at + 1] === y && table[at + 2] === z) {
        pointCell[i] = c;
        cellCountOf[c]++;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }

  // Renumber cells in row-major order of their coordinates, so points end up
  // spatially ordered and neighbour cells can be found by merging sorted keys
  // instead of hashing (see statistical-outliers.ts). Keys must stay exact
  // doubles: skipped when the grid spans more than 2^52 cells.
  let cellKeys: Float64Array | null = null;
  let keyStrides: VoxelGrid['keyStrides'] = null;
  if (cellCount > 0) {
    let x0 = Infinity,
      y0 = Infinity,
      z0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity,
      z1 = -Infinity;
    for (let c = 0; c < cellCount; c++) {
      x0 = Math.min(x0, cellX[c]);
      x1 = Math.max(x1, cellX[c]);
      y0 = Math.min(y0, cellY[c]);
      y1 = Math.max(y1, cellY[c]);
      z0 = Math.min(z0, cellZ[c]);
      z1 = Math.max(z1, cellZ[c]);
    }
    // +3: room for the −1/+1 neighbour offsets without wrapping into another row.
    const strideY = x1 - x0 + 3,
      strideZ = strideY * (y1 - y0 + 3);
    if (strideZ * (z1 - z0 + 3) < 2 ** 52) {
      keyStrides = { x0: x0 - 1, y0: y0 - 1, z0: z0 - 1, strideY, strideZ };
      const keys = new Float64Array(cellCount);
      for (let c = 0; c < cellCount; c++)
        keys[c] =
          cellX[c] -
          keyStrides.x0 +
          (cellY[c] - keyStrides.y0) * strideY +
          (cellZ[c] - keyStrides.z0) * strideZ;
      const sortedKeys = keys.slice().sort();
      const newId = new Int32Array(cellCount);
      const oldCounts = cellCountOf.slice(0, cellCount);
      for (let rank = 0; rank < cellCount; rank++) {
        const key = sortedKeys[rank];
        const z = Math.floor(key / strideZ),
          y = Math.floor((key - z * strideZ) / strideY),
          x = key - z * strideZ - y * strideY;
        const cx = x + keyStrides.x0,
          cy = y + keyStrides.y0,
          cz = z + keyStrides.z0;
        let slot = hashCell(cx, cy, cz) & mask;
        while (!(table[4 * slot] === cx && table[4 * slot + 1] === cy && table[4 * slot + 2] === cz))
          slot = (slot + 1) & mask;
        const old = table[4 * slot + 3];
        newId[old] = rank;
        table[4 * slot + 3] = rank;
        cellX[rank] = cx;
        cellY[rank] = cy;
        cellZ[rank] = cz;
        cellCountOf[rank] = oldCounts[old];
      }
      for (let i = 0; i < count; i++) if (pointCell[i] !== 0xffffffff) pointCell[i] = newId[pointCell[i]];
      cellKeys = sortedKeys;
    }
  }

  // Counting sort of the points by cell.
  const cellStart = new Uint32Array(cellCount + 1);
  for (let c = 0; c < cellCount; c++) cellStart[c + 1] = cellStart[c] + cellCountOf[c];
  const fill = cellStart.slice(0, cellCount);
  const order = new Uint32Array(cellStart[cellCount]);
  for (let i = 0; i < count; i++) {
    const c = pointCell[i];
    if (c !== 0xffffffff) order[fill[c]++] = i;
  }
  const sortedPositions = new Float32Array(order.length * 3);
  for (let j = 0; j < order.length; j++) {
    const p = order[j];
    sortedPositions[3 * j] = positions[3 * p];
    sortedPositions[3 * j + 1] = positions[3 * p + 1];
    sortedPositions[3 * j + 2] = positions[3 * p + 2];
  }

  const finalTable = table,
    finalMask = mask;
  return {
    cellSize,
    cellCount,
    cellX: cellX.subarray(0, cellCount),
    cellY: cellY.subarray(0, cellCount),
    cellZ: cellZ.subarray(0, cellCount),
    cellStart,
    order,
    sortedPositions,
    cellKeys,
    keyStrides,
    pointCount: count,
    find(x, y, z) {
      let slot = hashCell(x, y, z) & finalMask;
      for (;;) {
        const at = 4 * slot;
        const c = finalTable[at + 3];
        if (c === -1) return -1;
        if (finalTable[at] === x && finalTable[at + 1] === y && finalTable[at + 2] === z) return c;
        slot = (slot + 1) & finalMask;
      }
    },
  };
}

/** Axis-aligned bounds of the finite points, or null when there are none. */
export function finiteBounds(
  positions: Float32Array,
  count: number,
): { min: [number, number, number]; max: [number, number, number] } | null {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < count; i++) {
    const x = positions[3 * i],
      y = positions[3 * i + 1],
      z = positions[3 * i + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    if (x < min[0]) min[0] = x;
    if (y < min[1]) min[1] = y;
    if (z < min[2]) min[2] = z;
    if (x > max[0]) max[0] = x;
    if (y > max[1]) max[1] = y;
    if (z > max[2]) max[2] = z;
  }
  return min[0] === Infinity ? null : { min, max };
}

/** Number of occupied cells at a given cell size (a cheap pass, no sorting). */
function occupiedCells(positions: Float32Array, count: number, cellSize: number, stride: number): number {
  const inv = 1 / cellSize;
  const seen = new Set<string>();
  for (let i = 0; i < count; i += stride) {
    const x = positions[3 * i],
      y = positions[3 * i + 1],
      z = positions[3 * i + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    seen.add(`${Math.floor(x * inv)},${Math.floor(y * inv)},${Math.floor(z * inv)}`);
  }
  return seen.size;
}

/**
 * A cell size at which occupied cells hold about `pointsPerCell` points.
 * Reconstructed clouds are surfaces, not volumes, so a bounding-box volume
 * estimate is far too large; we refine on a subsample, assuming a cell's
 * population grows with the square of its size (a surface) between steps.
 */
export function cellSizeForDensity(positions: Float32Array, count: number, pointsPerCell: number): number {
  const bounds = finiteBounds(positions, count);
  if (!bounds) return 1;
  const extent = Math.max(
    bounds.max[0] - bounds.min[0],
    bounds.max[1] - bounds.min[1],
    bounds.max[2] - bounds.min[2],
    1e-9,
  );
  // Measure on at most ~200k points. A subsample is sparser by `stride`, so we
  // measure at a cell size where sampled cells hold ~8 points and scale the
  // answer down to the full density with the surface (square) law.
  const stride = Math.max(1, Math.floor(count / 200_000));
  const sampled = Math.ceil(count / stride);
  const sampleTarget = Math.max(8, pointsPerCell / stride);
  let size = extent / Math.max(1, Math.sqrt(sampled / sampleTarget));
  let perCell = 1;
  let measuredSize = size;
  for (let step = 0; step < 5; step++) {
    measuredSize = size;
    perCell = sampled / Math.max(1, occupiedCells(positions, count, size, stride));
    const ratio = sampleTarget / perCell;
    if (ratio > 0.8 && ratio < 1.25) break;
    size *= Math.min(4, Math.max(0.25, Math.sqrt(ratio)));
  }
  return measuredSize * Math.sqrt(pointsPerCell / (perCell * stride));
}
