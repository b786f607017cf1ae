// One summary of a graph file's initializers, shared by the CPU and GPU
// memory estimates: decoded once per file version, decoded again when the
// file changes, undefined for a missing or broken file.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../../main/model/graph/graph-builder';
import { graphInitializers } from '../../../../main/model/engine/graph-weights';

const work = fs.mkdtempSync(join(os.tmpdir(), 'graph-weights-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A graph gathering rows of `table` and multiplying by `w` (stored as fp16), both external ranges of weights.bin. */
function writeGraph(path: string, tableLength: number): void {
  const g = new GraphBuilder('g');
  const ids = g.input('ids', 'int64', ['n']);
  const table = g.weight('table', [4, 2]);
  g.weightType = 'float16';
  const w = g.weightAsFloat32('w', [2, 2]);
  g.output(g.op('MatMul', [g.op('Gather', [table, ids], { axis: 0 }), w]), 'y');
  const at: Record<string, { offset: number; length: number }> = {
    table: { offset: 0, length: tableLength },
    w: { offset: 4096, length: 16 },
  };
  fs.writeFileSync(
    path,
    g.toModelBytes((spec) => ({ location: 'weights.bin', ...at[spec.name] })),
  );
}

describe('graphInitializers', () => {
  it('summarises ranges, lengths and gathered tables once per file version', async () => {
    const path = join(work, 'g.onnx');
    writeGraph(path, 32);
    const first = await graphInitializers(path);
    expect(first).toEqual([
      { name: 'table', range: 'weights.bin@0', bytes: 32, external: true, gathered: true, half: false },
      { name: 'w', range: 'weights.bin@4096', bytes: 16, external: true, gathered: false, half: true },
    ]);
    // The second estimate of the same job reuses the summary.
    expect(await graphInitializers(path)).toBe(first);
    // A file written again (another conversion) is read again.
    writeGraph(path, 64);
    fs.utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const second = await graphInitializers(path);
    expect(second).not.toBe(first);
    expect(second?.[0].bytes).toBe(64);
  });

  it('is undefined for a missing or unreadable graph file', async () => {
    expect(await graphInitializers(join(work, 'missing.onnx'))).toBeUndefined();
    const broken = join(work, 'broken.onnx');
    fs.writeFileSync(broken, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(await graphInitializers(broken)).toBeUndefined();
  });
});
