// In-memory reuse of chat prefixes (system text + geometry block + ViT blocks of
// a scene's images): the expensive part of a question, identical for every
// question about the same images. Keyed by the caller's scene key AND a hash of
// the image bytes, so a stale key can never answer about other pixels.
// Least-recently-used entries are dropped beyond a small count (a real-model
// prefix holds ~100 MB of keys/values).
import { createHash } from 'node:crypto';
import type { ChatPrefix } from './chat-session';

export function prefixKey(parts: {
  modelDir: string;
  executionProvider: string;
  sceneKey: string;
  visionImageSize: number;
  frames: Array<{ bytes: Uint8Array }>;
}): string {
  const hash = createHash('sha256');
  for (const frame of parts.frames) {
    hash.update(String(frame.bytes.byteLength));
    hash.update(frame.bytes);
  }
  return [
    parts.modelDir,
    parts.executionProvider,
    parts.sceneKey,
    parts.visionImageSize,
    hash.digest('hex'),
  ].join('\u0000');
}

export class PrefixCache {
  private readonly entries = new Map<string, ChatPrefix>();

  constructor(private readonly maxEntries = 4) {}

  get(key: string): ChatPrefix | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Refresh its place in the LRU order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, prefix: ChatPrefix): void {
    this.entries.delete(key);
    this.entries.set(key, prefix);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
