// The viewer's shuffled GPU order: a permutation of short runs of stored points
// whose every prefix is a uniform subsample, and masks in stored order landing
// on the right draw slots.

import { describe, expect, it } from 'vitest';
import { DrawOrder, HIDDEN, HIGHLIGHTED, SHOWN } from '../../../../renderer/src/scene/points/draw-order';

function originalIndices(order: DrawOrder): Uint32Array {
  const out = new Uint32Array(order.count);
  for (let slot = 0; slot < order.count; slot++) out[slot] = order.originalIndex(slot);
  return out;
}

describe('DrawOrder', () => {
  it('is a permutation of whole runs, the same for the same seed and different for another', () => {
    const order = new DrawOrder(10_005, { blockSize: 16, seed: 7 }); // 625 runs and a tail of 5
    const indices = originalIndices(order);
    const seen = new Uint8Array(10_005);
    for (const index of indices) seen[index]++;
    expect(seen.every((n) => n === 1)).toBe(true);
    for (let slot = 0; slot < 10_005; slot++) {
      if (slot % 16 !== 0) expect(indices[slot]).toBe(indices[slot - 1] + 1); // runs stay together
    }
    expect(Array.from(indices.subarray(10_000))).toEqual([10_000, 10_001, 10_002, 10_003, 10_004]);
    expect(originalIndices(new DrawOrder(10_005, { blockSize: 16, seed: 7 }))).toEqual(indices);
    expect(originalIndices(new DrawOrder(10_005, { blockSize: 16, seed: 8 }))).not.toEqual(indices);
    let runsInPlace = 0;
    for (let b = 0; b < order.blockStarts.length; b++) if (order.blockStarts[b] === b * 16) runsInPlace++;
    expect(runsInPlace).toBeLessThan(10); // a random permutation fixes about one
  });

  it('draws a uniform subsample in any prefix: every tenth of the cloud gets its share', () => {
    const count = 400_000;
    for (const blockSize of [1, 16]) {
      const order = new DrawOrder(count, { blockSize });
      for (const prefix of [16_000, 40_000, 200_000]) {
        const bins = new Array<number>(10).fill(0);
        for (let slot = 0; slot < prefix; slot++)
          bins[Math.floor((order.originalIndex(slot) * 10) / count)]++;
        const expected = prefix / 10;
        // Runs are drawn whole, so the spread is that of prefix/blockSize draws, times blockSize;
        // 5 standard deviations is far beyond chance and far below a biased order.
        const tolerance = 5 * blockSize * Math.sqrt((prefix / blockSize / 10) * 0.9);
        for (const n of bins)
          expect(Math.abs(n - expected), `block ${blockSize}, prefix ${prefix}`).toBeLessThan(tolerance);
      }
    }
  });

  it('puts each point (xyz or rgb) in its draw slot', () => {
    const order = new DrawOrder(1_003, { blockSize: 16, seed: 3 });
    const positions = new Float32Array(3_009).map((_, k) => k * 0.5);
    const colors = new Uint8Array(3_009).map((_, k) => k % 251);
    const drawnPositions = order.gather(positions, 3, new Float32Array(3_009));
    const drawnColors = order.gather(colors, 3, new Uint8Array(3_009));
    for (let slot = 0; slot < 1_003; slot++) {
      const point = order.originalIndex(slot);
      for (let k = 0; k < 3; k++) {
        expect(drawnPositions[slot * 3 + k]).toBe(positions[point * 3 + k]);
        expect(drawnColors[slot * 3 + k]).toBe(colors[point * 3 + k]);
      }
    }
  });
});

describe('DrawOrder.writeVisibility', () => {
  const order = new DrawOrder(500, { blockSize: 16, seed: 11 });
  const keep = new Uint8Array(500).map((_, i) => (i % 3 === 0 ? 0 : 1));
  const highlight = new Uint8Array(500).map((_, i) => (i % 5 === 0 ? 1 : 0));

  it('maps keep and highlight masks (stored order) onto draw slots; hidden wins over highlighted', () => {
    const visibility = order.writeVisibility(keep, highlight, new Uint8Array(500));
    for (let slot = 0; slot < 500; slot++) {
      const point = order.originalIndex(slot);
      const expected = point % 3 === 0 ? HIDDEN : point % 5 === 0 ? HIGHLIGHTED : SHOWN;
      expect(visibility[slot], `slot ${slot} (point ${point})`).toBe(expected);
    }
  });

  it('shows everything without masks and rejects masks of the wrong length', () => {
    expect(order.writeVisibility(null, null, new Uint8Array(500)).every((v) => v === SHOWN)).toBe(true);
    expect(() => order.writeVisibility(new Uint8Array(499), null, new Uint8Array(500))).toThrow(/499/);
    expect(() => order.writeVisibility(null, new Uint8Array(501), new Uint8Array(500))).toThrow(/501/);
  });
});
