import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../../../main/common/errors';
import {
  SafetensorsFile,
  float32ToBf16,
  writeSafetensors,
} from '../../../../main/model/checkpoint/safetensors';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'g2-safetensors-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function expectCorrupt(promise: Promise<unknown>, ...fragments: string[]): Promise<StudioError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  const studioError = error as StudioError;
  expect(studioError.code).toBe('model-corrupt');
  for (const fragment of fragments) expect(studioError.message).toContain(fragment);
  expect(studioError.fix.length).toBeGreaterThan(10);
  return studioError;
}

/** A hand-built file: header JSON as given, then `dataBytes` bytes. */
async function rawFile(name: string, header: Record<string, unknown>, dataBytes: number): Promise<string> {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  await fs.writeFile(path, Buffer.concat([prefix, json, Buffer.alloc(dataBytes, 7)]));
  return path;
}

describe('safetensors writer + reader', () => {
  it('round-trips every supported dtype and converts floats to float32', async () => {
    const f32 = new Float32Array([1.5, -2.25, 3.1415927, 1e-8, 65504, -0]);
    const bf16Source = new Float32Array([1, -2, 0.1, 3.3333333]);
    // float16 bit patterns: 1, -2, max finite, smallest subnormal, +inf, 0.5
    const f16Bits = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3800]);
    const i64 = new BigInt64Array([1n, -5n, 9007199254740993n]);
    const i32 = new Int32Array([7, -8, 2147483647]);
    const u8 = new Uint8Array([0, 128, 255]);
    const bool = new Uint8Array([1, 0, 1, 1]);
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, [
      { name: 'a.f32', dtype: 'F32', shape: [2, 3], data: f32 },
      { name: 'b.bf16', dtype: 'BF16', shape: [4], data: float32ToBf16(bf16Source) },
      { name: 'c.f16', dtype: 'F16', shape: [6], data: f16Bits },
      { name: 'd.i64', dtype: 'I64', shape: [3], data: i64 },
      { name: 'e.i32', dtype: 'I32', shape: [3, 1], data: i32 },
      { name: 'f.u8', dtype: 'U8', shape: [3], data: u8 },
      { name: 'g.bool', dtype: 'BOOL', shape: [2, 2], data: bool },
      { name: 'h.empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ]);
    const file = await SafetensorsFile.open(path);
    try {
      expect([...file.tensors.keys()]).toHaveLength(8);
      expect(file.tensors.get('a.f32')).toMatchObject({
        dtype: 'F32',
        shape: [2, 3],
        byteLength: 24,
        file: path,
      });
      expect([...(await file.readFloat32('a.f32'))]).toEqual([...f32]);
      const bf16 = await file.readFloat32('b.bf16');
      expect(bf16[0]).toBe(1);
      expect(bf16[1]).toBe(-2);
      // bf16 keeps 8 significant bits: 0.1 -> 0.10009765625 (round to nearest even)
      expect(bf16[2]).toBe(0.10009765625);
      expect(Math.abs(bf16[3] - 3.3333333)).toBeLessThan(0.02);
      expect([...(await file.readFloat32('c.f16'))]).toEqual([1, -2, 65504, 2 ** -24, Infinity, 0.5]);
      expect([...((await file.readTyped('d.i64')) as BigInt64Array)]).toEqual([...i64]);
      expect([...((await file.readTyped('e.i32')) as Int32Array)]).toEqual([...i32]);
      expect([...((await file.readTyped('f.u8')) as Uint8Array)]).toEqual([...u8]);
      expect([...((await file.readTyped('g.bool')) as Uint8Array)]).toEqual([...bool]);
      expect((await file.readFloat32('h.empty')).length).toBe(0);
      expect((await file.readRaw('e.i32')).equals(Buffer.from(i32.buffer))).toBe(true);
      await expectCorrupt(file.readFloat32('d.i64'), 'd.i64', 'I64');
      await expectCorrupt(file.readFloat32('nope'), 'nope', 'missing');
    } finally {
      await file.close();
    }
  });

  it('reads a large tensor in bounded chunks that concatenate to the whole', async () => {
    const values = new Float32Array(300_001).map((_, i) => i * 0.5);
    const path = join(dir, 'chunks.safetensors');
    await writeSafetensors(path, [
      {
        name: 'x',
        dtype: 'F32',
        shape: [300_001],
        data: () => [values.subarray(0, 100_000), values.subarray(100_000)],
      },
    ]);
    const file = await SafetensorsFile.open(path);
    const chunks: Buffer[] = [];
    for await (const chunk of file.readRawChunks('x', 65_538)) {
      expect(chunk.length).toBeLessThanOrEqual(65_536);
      chunks.push(chunk);
    }
    await file.close();
    expect(Buffer.concat(chunks).equals(Buffer.from(values.buffer))).toBe(true);
  });

  it('leaves no file behind when a tensor produces the wrong number of bytes', async () => {
    const path = join(dir, 'short.safetensors');
    const error = await writeSafetensors(path, [
      { name: 'x', dtype: 'F32', shape: [4], data: new Float32Array(3) },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    await expect(fs.stat(path)).rejects.toThrow();
    await expect(fs.stat(`${path}.partial`)).rejects.toThrow();
  });

  it('refuses damaged headers with the file and tensor named', async () => {
    const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    await expectCorrupt(
      SafetensorsFile.open(
        await rawFile('trunc.safetensors', { w: ok, v: { ...ok, data_offsets: [8, 16] } }, 12),
      ),
      'trunc.safetensors',
      'truncated',
    );
    await expectCorrupt(
      SafetensorsFile.open(
        await rawFile('gap.safetensors', { w: ok, v: { ...ok, data_offsets: [12, 20] } }, 20),
      ),
      'gap',
      'v',
    );
    await expectCorrupt(
      SafetensorsFile.open(
        await rawFile('overlap.safetensors', { w: ok, v: { ...ok, data_offsets: [4, 12] } }, 12),
      ),
      'overlaps',
    );
    await expectCorrupt(
      SafetensorsFile.open(await rawFile('size.safetensors', { w: { ...ok, shape: [3] } }, 8)),
      'tensor w',
      'needs 12 bytes',
    );
    await expectCorrupt(
      SafetensorsFile.open(await rawFile('dtype.safetensors', { w: { ...ok, dtype: 'F8_E4M3' } }, 8)),
      'tensor w',
      'F8_E4M3',
    );
    await expectCorrupt(
      SafetensorsFile.open(await rawFile('tail.safetensors', { w: ok }, 9)),
      'unexpected bytes',
    );
    const notJson = join(dir, 'notjson.safetensors');
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(5n);
    await fs.writeFile(notJson, Buffer.concat([prefix, Buffer.from('{nope')]));
    await expectCorrupt(SafetensorsFile.open(notJson), 'not valid JSON');
    const huge = join(dir, 'huge.safetensors');
    prefix.writeBigUInt64LE(1n << 40n);
    await fs.writeFile(huge, Buffer.concat([prefix, Buffer.from('{}')]));
    await expectCorrupt(SafetensorsFile.open(huge), 'header length');
    const tiny = join(dir, 'tiny.safetensors');
    await fs.writeFile(tiny, Buffer.from([1, 2, 3]));
    await expectCorrupt(SafetensorsFile.open(tiny), 'too short');
    const missing = await SafetensorsFile.open(join(dir, 'absent.safetensors')).catch((e: unknown) => e);
    expect((missing as StudioError).code).toBe('unreadable-path');
  });

  it('opens a sharded checkpoint through its index and checks the index against the shards', async () => {
    const shardDir = join(dir, 'sharded');
    await fs.mkdir(shardDir);
    await writeSafetensors(join(shardDir, 'model-00001-of-00002.safetensors'), [
      { name: 'a', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    ]);
    await writeSafetensors(join(shardDir, 'model-00002-of-00002.safetensors'), [
      { name: 'b', dtype: 'BF16', shape: [1], data: float32ToBf16(new Float32Array([3])) },
      { name: 'c', dtype: 'F32', shape: [1], data: new Float32Array([4]) },
    ]);
    const indexPath = join(shardDir, 'model.safetensors.index.json');
    const weightMap = {
      a: 'model-00001-of-00002.safetensors',
      b: 'model-00002-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
    };
    await fs.writeFile(indexPath, JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const file = await SafetensorsFile.open(indexPath);
    expect(file.tensors.get('a')!.file).toBe(join(shardDir, 'model-00001-of-00002.safetensors'));
    expect(file.tensors.get('c')!.file).toBe(join(shardDir, 'model-00002-of-00002.safetensors'));
    expect([...(await file.readFloat32('a'))]).toEqual([1, 2]);
    expect([...(await file.readFloat32('b'))]).toEqual([3]);
    expect([...(await file.readFloat32('c'))]).toEqual([4]);
    await file.close();

    await fs.writeFile(
      indexPath,
      JSON.stringify({ weight_map: { ...weightMap, c: 'model-00001-of-00002.safetensors' } }),
    );
    await expectCorrupt(SafetensorsFile.open(indexPath), 'tensor c', 'model-00002-of-00002');
    await fs.writeFile(
      indexPath,
      JSON.stringify({ weight_map: { ...weightMap, d: 'model-00002-of-00002.safetensors' } }),
    );
    await expectCorrupt(SafetensorsFile.open(indexPath), 'tensor d', 'not in the shard');
  });
});
