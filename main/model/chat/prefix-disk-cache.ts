// Optional on-disk copy of chat prefixes, so a scene's system + geometry +
// vision prefill (minutes on the real model) survives an app restart. One file
// per prefix key: a JSON header, then the float32 keys and values of every
// layer (1, Hk, T, hd) and the prefix positions. Files are written atomically
// (temporary name, then rename) and the folder is kept under a byte budget,
// oldest files first. Anything unreadable is ignored (and removed): the prefix
// is then simply computed again.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { floatTensor } from '../runtime/session';
import type { ChatPrefix } from './chat-session';

const FORMAT = 'g2studio-chat-prefix/1';

interface Header {
  format: string;
  key: string;
  rows: number;
  nextPosition: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  positions: number;
  geometryPositions: number;
}

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

export class PrefixDiskCache {
  constructor(
    readonly dir: string,
    private readonly maxBytes = 2 * 1024 ** 3,
  ) {}

  private file(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.kvc`);
  }

  async load(key: string, shape: KvShape): Promise<ChatPrefix | undefined> {
    const path = this.file(key);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path);
    } catch {
      return undefined;
    }
    try {
      const headerLength = bytes.readUInt32LE(0);
      const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as Header;
      if (
        header.format !== FORMAT ||
        header.key !== key ||
        header.layers !== shape.layers ||
        header.kvHeads !== shape.kvHeads ||
        header.headDim !== shape.headDim
      ) {
        throw new Error('stale prefix file');
      }
      // Float data starts on a 4-byte boundary after the header.
      let offset = Math.ceil((4 + headerLength) / 4) * 4;
      const take = (count: number): Float32Array => {
        const out = new Float32Array(count);
        new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * 4));
        offset += count * 4;
        return out;
      };
      const perLayer = header.kvHeads * header.rows * header.headDim;
      const dims = [1, header.kvHeads, header.rows, header.headDim];
      const keys: ort.Tensor[] = [];
      const values: ort.Tensor[] = [];
      for (let i = 0; i < header.layers; i++) {
        keys.push(floatTensor(take(perLayer), dims));
        values.push(floatTensor(take(perLayer), dims));
      }
      const positions = Int32Array.from(take(header.positions));
      const geometryPositions = Int32Array.from(take(header.geometryPositions));
      if (offset !== bytes.length) throw new Error('prefix file has the wrong size');
      // Touch it: the budget drops the least recently used files first.
      const now = new Date();
      await fs.utimes(path, now, now).catch(() => undefined);
      return {
        cache: { keys, values, length: header.rows },
        nextPosition: header.nextPosition,
        rows: header.rows,
        vision: [],
        geometryPositions,
        positions,
        timingsMs: {},
      };
    } catch {
      await fs.rm(path, { force: true });
      return undefined;
    }
  }

  async save(key: string, prefix: ChatPrefix, shape: KvShape): Promise<void> {
    const header: Header = {
      format: FORMAT,
      key,
      rows: prefix.cache.length,
      nextPosition: prefix.nextPosition,
      ...shape,
      positions: prefix.positions.length,
      geometryPositions: prefix.geometryPositions.length,
    };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const lead = Buffer.alloc(Math.ceil((4 + headerBytes.length) / 4) * 4);
    lead.writeUInt32LE(headerBytes.length, 0);
    headerBytes.copy(lead, 4);
    const parts: Uint8Array[] = [lead];
    for (let i = 0; i < shape.layers; i++) {
      for (const tensor of [prefix.cache.keys[i], prefix.cache.values[i]]) {
        const data = tensor.data as Float32Array;
        parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    }
    // Positions are small integers: exact in float32.
    for (const p of [prefix.positions, prefix.geometryPositions]) {
      const f = Float32Array.from(p);
      parts.push(new Uint8Array(f.buffer));
    }
    await fs.mkdir(this.dir, { recursive: true });
    const path = this.file(key);
    const temp = `${path}.${process.pid}.tmp`;
    const handle = await fs.open(temp, 'w');
    try {
      for (const part of parts) await handle.write(part);
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
    await this.enforceBudget();
  }

  private async enforceBudget(): Promise<void> {
    const names = (await fs.readdir(this.dir)).filter((n) => n.endsWith('.kvc'));
    const files = await Promise.all(
      names.map(async (name) => {
        const stat = await fs.stat(join(this.dir, name)).catch(() => undefined);
        return { name, bytes: stat?.size ?? 0, used: stat?.mtimeMs ?? 0 };
      }),
    );
    files.sort((a, b) => b.used - a.used);
    let total = 0;
    for (const [i, f] of files.entries()) {
      total += f.bytes;
      // The newest file always stays.
      if (i > 0 && total > this.maxBytes) await fs.rm(join(this.dir, f.name), { force: true });
    }
  }
}
