// The viewer's shuffled GPU order: a permutation whose every prefix is a uniform
// subsample, and masks in stored order landing on the right draw slots.

import { describe, expect, it } from 'vitest';
import {
  gatherInDrawOrder,
  HIDDEN,
  HIGHLIGHTED,
  randomDrawOrder,
  SHOWN,
  writeVisibility,
} from '../../renderer/src/scene/points/draw-order';

describe('randomDrawOrder', () => {
  it('is a permutation, the same for the same seed and different for another', () => {
    const order = randomDrawOrder(10_000, 7);
    const seen = new Uint8Array(10_000);
    for (const index of order) seen[index]++;
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(randomDrawOrder(10_000, 7)).toEqual(order);
    expect(randomDrawOrder(10_000, 8)).not.toEqual(order);
    let inPlace = 0;
    for (let i = 0; i < order.length; i++) if (order[i] === i) inPlace++;
    expect(inPlace).toBeLessThan(20); // a random permutation fixes about one point
  });

  it('draws a uniform subsample in any prefix: every tenth of the cloud gets its share', () => {
    const count = 200_000;
    const order = randomDrawOrder(count);
    for (const prefix of [2_000, 20_000, 100_000]) {
      const bins = new Array<number>(10).fill(0);
      for (let slot = 0; slot < prefix; slot++) bins[Math.floor((order[slot] * 10) / count)]++;
      const expected = prefix / 10;
      // Binomial spread: 5 standard deviations is far beyond chance, far below a biased order.
      const tolerance = 5 * Math.sqrt(expected * 0.9);
      for (const n of bins) expect(Math.abs(n - expected)).toBeLessThan(tolerance);
    }
  });
});

describe('gatherInDrawOrder', () => {
  it('puts each point (xyz or rgb) in its draw slot', () => {
    const order = randomDrawOrder(1_000, 3);
    const positions = new Float32Array(3_000).map((_, k) => k * 0.5);
    const colors = new Uint8Array(3_000).map((_, k) => k % 251);
    const drawnPositions = gatherInDrawOrder(positions, 3, order, new Float32Array(3_000));
    const drawnColors = gatherInDrawOrder(colors, 3, order, new Uint8Array(3_000));
    for (let slot = 0; slot < 1_000; slot++) {
      for (let k = 0; k < 3; k++) {
        expect(drawnPositions[slot * 3 + k]).toBe(positions[order[slot] * 3 + k]);
        expect(drawnColors[slot * 3 + k]).toBe(colors[order[slot] * 3 + k]);
      }
    }
  });
});

describe('writeVisibility', () => {
  const order = randomDrawOrder(500, 11);
  const keep = new Uint8Array(500).map((_, i) => (i % 3 === 0 ? 0 : 1));
  const highlight = new Uint8Array(500).map((_, i) => (i % 5 === 0 ? 1 : 0));

  it('maps keep and highlight masks (stored order) onto draw slots; hidden wins over highlighted', () => {
    const visibility = writeVisibility(order, keep, highlight, new Uint8Array(500));
    for (let slot = 0; slot < 500; slot++) {
      const point = order[slot];
      const expected = point % 3 === 0 ? HIDDEN : point % 5 === 0 ? HIGHLIGHTED : SHOWN;
      expect(visibility[slot], `slot ${slot} (point ${point})`).toBe(expected);
    }
  });

  it('shows everything without masks and rejects masks of the wrong length', () => {
    expect(writeVisibility(order, null, null, new Uint8Array(500)).every((v) => v === SHOWN)).toBe(true);
    expect(() => writeVisibility(order, new Uint8Array(499), null, new Uint8Array(500))).toThrow(/499/);
    expect(() => writeVisibility(order, null, new Uint8Array(501), new Uint8Array(500))).toThrow(/501/);
  });
});
