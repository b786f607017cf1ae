// The filter preview's float sort equals Float32Array.prototype.sort, signs,
// zeros, infinities and ties included.

import { describe, expect, it } from 'vitest';
import { sortFloat32 } from '../../../main/common/sort-float32';

describe('radix sort of float32 scores', () => {
  it('orders like Float32Array.sort', () => {
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
    const values = new Float32Array(100_003);
    for (let i = 0; i < values.length; i++) {
      const r = rand();
      values[i] =
        r < 0.01
          ? Infinity
          : r < 0.02
            ? -Infinity
            : r < 0.03
              ? 0
              : r < 0.04
                ? -0
                : r < 0.2
                  ? Math.round(rand() * 10)
                  : (rand() - 0.3) * 1e6 * rand() ** 4;
    }
    const expected = values.slice().sort();
    const got = sortFloat32(values);
    expect(got.length).toBe(expected.length);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(values[0]).not.toBeUndefined(); // the input is left as it was
  });

  it('sorts a subarray view and the empty array', () => {
    const all = new Float32Array([9, 3, -1, 2, 8]);
    expect(Array.from(sortFloat32(all.subarray(1, 4)))).toEqual([-1, 2, 3]);
    expect(sortFloat32(new Float32Array(0)).length).toBe(0);
  });
});
