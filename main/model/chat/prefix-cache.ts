// In-memory reuse of chat prefixes (system text + geometry block + ViT blocks of
// a scene's images): the expensive part of a question, identical for every
// question about the same images. Keyed by the caller's scene key AND a hash of
// the image bytes, so a stale key can never answer about other pixels.
// Least-recently-used entries are dropped beyond a small count or a byte budget
// (a real-model prefix holds 0.1-0.4 GB of keys/values).
import { createHash } from 'node:crypto';
import type { ChatPrefix } from './chat-session';

export function prefixKey(parts: {
  modelDir: string;
  executionProvider: string;
  sceneKey: string;
  visionImageSize: number;
  frames: Array<{ bytes: Uint8Array; markers?: unknown[] }>;
}): string {
  const hash = createHash('sha256');
  for (const frame of parts.frames) {
    hash.update(String(frame.bytes.byteLength));
    hash.update(frame.bytes);
    // Markers change the pixels the model sees, so they are part of the key.
    hash.update(JSON.stringify(frame.markers ?? []));
  }
  return [
    parts.modelDir,
    parts.executionProvider,
    parts.sceneKey,
    parts.visionImageSize,
    hash.digest('hex'),
  ].join('\u0000');
}

/** Bytes of keys + values a prefix holds (float32). */
export function prefixBytes(prefix: ChatPrefix, layers: number, kvHeads: number, headDim: number): number {
  return prefix.cache.length * layers * 2 * kvHeads * headDim * 4;
}

export class PrefixCache {
  private readonly entries = new Map<string, { prefix: ChatPrefix; bytes: number }>();
  private totalBytes = 0;

  /** At most `maxEntries` prefixes and `maxBytes` of keys/values (the newest one is always kept). */
  constructor(
    private readonly maxEntries = 4,
    private readonly maxBytes = 1024 ** 3,
  ) {}

  get(key: string): ChatPrefix | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Refresh its place in the LRU order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry?.prefix;
  }

  set(key: string, prefix: ChatPrefix, bytes = 0): void {
    this.delete(key);
    this.entries.set(key, { prefix, bytes });
    this.totalBytes += bytes;
    while (
      this.entries.size > 1 &&
      (this.entries.size > this.maxEntries || this.totalBytes > this.maxBytes)
    ) {
      this.delete(this.entries.keys().next().value as string);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.totalBytes -= entry.bytes;
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }
}
