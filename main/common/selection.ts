// Point selection by box and by screen-space lasso. Selections are geometry
// (a box, or a polygon with the view it was drawn in), never point indices, so
// a stored edit still means the same region after the cloud beneath it changed
// (e.g. after a voxel downsample earlier in the edit stack).
// In common because the viewer previews selections with these same functions
// the core applies, so what lights up is exactly what an edit removes.

/** An axis-aligned box in box space; `boxFromWorld` (row-major 4x4) orients it, identity when absent. */
export interface SelectionBox {
  min: [number, number, number];
  max: [number, number, number];
  boxFromWorld?: number[];
}

/**
 * A lasso drawn on screen: `polygon` vertices in normalised device coordinates
 * (x right, y up, both −1..1) and the row-major 4x4 `viewProjection` that maps a
 * scene point (scene units, the cloud's own axes) to clip space. From three.js:
 * transpose of `projectionMatrix · matrixWorldInverse · object.matrixWorld`
 * (three stores column-major; see rowMajorFromColumnMajor).
 */
export interface SelectionLasso {
  polygon: Array<[number, number]>;
  viewProjection: number[];
}

export type SelectionRegion = { kind: 'box'; box: SelectionBox } | { kind: 'lasso'; lasso: SelectionLasso };

/** A region, or the union of several (a shift-added selection). */
export type Selection = SelectionRegion | { kind: 'regions'; regions: SelectionRegion[] };

export function rowMajorFromColumnMajor(m: ArrayLike<number>): number[] {
  const out = new Array<number>(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[r * 4 + c] = m[c * 4 + r];
  return out;
}

/** 1 for points inside the box (faces included). */
export function selectInBox(positions: Float32Array, count: number, box: SelectionBox): Uint8Array {
  const out = new Uint8Array(count);
  const m = box.boxFromWorld ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  if (m.length !== 16) throw new RangeError('boxFromWorld must have 16 numbers');
  const [x0, y0, z0] = box.min;
  const [x1, y1, z1] = box.max;
  for (let i = 0; i < count; i++) {
    const px = positions[3 * i],
      py = positions[3 * i + 1],
      pz = positions[3 * i + 2];
    const x = m[0] * px + m[1] * py + m[2] * pz + m[3];
    const y = m[4] * px + m[5] * py + m[6] * pz + m[7];
    const z = m[8] * px + m[9] * py + m[10] * pz + m[11];
    out[i] = x >= x0 && x <= x1 && y >= y0 && y <= y1 && z >= z0 && z <= z1 ? 1 : 0;
  }
  return out;
}

/** 1 for points in front of the camera whose projection falls inside the polygon (even-odd rule). */
export function selectInLasso(positions: Float32Array, count: number, lasso: SelectionLasso): Uint8Array {
  const out = new Uint8Array(count);
  const m = lasso.viewProjection;
  if (m.length !== 16) throw new RangeError('viewProjection must have 16 numbers');
  const poly = lasso.polygon;
  if (poly.length < 3) return out;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const [x, y] of poly) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const n = poly.length;
  const vx = new Float64Array(n),
    vy = new Float64Array(n);
  poly.forEach(([x, y], j) => {
    vx[j] = x;
    vy[j] = y;
  });
  for (let i = 0; i < count; i++) {
    const px = positions[3 * i],
      py = positions[3 * i + 1],
      pz = positions[3 * i + 2];
    const w = m[12] * px + m[13] * py + m[14] * pz + m[15];
    if (!(w > 0)) continue; // behind the camera
    const x = (m[0] * px + m[1] * py + m[2] * pz + m[3]) / w;
    const y = (m[4] * px + m[5] * py + m[6] * pz + m[7]) / w;
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    let inside = false;
    for (let a = 0, b = n - 1; a < n; b = a++) {
      if (vy[a] > y !== vy[b] > y && x < ((vx[b] - vx[a]) * (y - vy[a])) / (vy[b] - vy[a]) + vx[a])
        inside = !inside;
    }
    out[i] = inside ? 1 : 0;
  }
  return out;
}

export function selectPoints(positions: Float32Array, count: number, selection: Selection): Uint8Array {
  if (selection.kind === 'box') return selectInBox(positions, count, selection.box);
  if (selection.kind === 'lasso') return selectInLasso(positions, count, selection.lasso);
  const union = new Uint8Array(count);
  for (const region of selection.regions) {
    const inside = selectPoints(positions, count, region);
    for (let i = 0; i < count; i++) union[i] |= inside[i];
  }
  return union;
}
