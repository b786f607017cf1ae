// Scene prefixes are reused only for the same model, scene key, vision size
// and image bytes, and the cache stays within its entry and byte budgets.

import { describe, expect, it } from 'vitest';
import type { ChatPrefix } from '../../../../main/model/chat/chat-session';
import { PrefixCache, prefixBytes, prefixKey } from '../../../../main/model/chat/prefix-cache';

const prefixOf = (rows: number): ChatPrefix =>
  ({ cache: { keys: [], values: [], length: rows }, nextPosition: rows, rows }) as unknown as ChatPrefix;

describe('PrefixCache', () => {
  it('keys on the image bytes as well as the scene key', () => {
    const base = { modelDir: '/m', executionProvider: 'cpu', sceneKey: 'scene-1', visionImageSize: 768 };
    const a = prefixKey({ ...base, frames: [{ bytes: new Uint8Array([1, 2, 3]) }] });
    expect(prefixKey({ ...base, frames: [{ bytes: new Uint8Array([1, 2, 3]) }] })).toBe(a);
    expect(prefixKey({ ...base, frames: [{ bytes: new Uint8Array([1, 2, 4]) }] })).not.toBe(a);
    expect(
      prefixKey({ ...base, visionImageSize: 240, frames: [{ bytes: new Uint8Array([1, 2, 3]) }] }),
    ).not.toBe(a);
    // Frame boundaries matter: [12][3] is not [1][23].
    const split1 = prefixKey({
      ...base,
      frames: [{ bytes: new Uint8Array([1, 2]) }, { bytes: new Uint8Array([3]) }],
    });
    const split2 = prefixKey({
      ...base,
      frames: [{ bytes: new Uint8Array([1]) }, { bytes: new Uint8Array([2, 3]) }],
    });
    expect(split1).not.toBe(split2);
  });

  it('drops the least recently used prefix beyond its entry count or byte budget', () => {
    const cache = new PrefixCache(2, 1000);
    cache.set('a', prefixOf(1), 400);
    cache.set('b', prefixOf(2), 400);
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', prefixOf(3), 100);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('d', prefixOf(4), 950); // over the byte budget: everything older goes
    expect(cache.size).toBe(1);
    expect(cache.get('d')?.rows).toBe(4);
    expect(cache.bytes).toBe(950);
  });

  it('sizes a prefix by its cached rows (float32 keys and values of every layer)', () => {
    expect(prefixBytes(prefixOf(1000), 28, 2, 128)).toBe(1000 * 28 * 2 * 2 * 128 * 4);
  });
});
