// fp16 models on the CPU run from a float32 form of their folder, widened once
// (float32-form.ts), so they hold exactly what the fp32 model holds: the same
// graphs over one mapped float32 copy. The form of the golden tiny-a fp16
// conversion is checked against the fp32 conversion of the same checkpoint
// (graphs and weight bytes), a reconstruction through it against one through
// the fp16 graphs, and the files it leaves: made once, a folder of its name it
// did not make left alone, temporaries of dead writers removed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../../main/model/convert/convert-checkpoint';
import { compareAllclose } from '../../../../main/model/golden/golden-tensors';
import { float32ToHalfBits, halfToFloat32Table } from '../../../../main/model/graph/half';
import { decodeRgb, type RgbImage } from '../../../../main/model/preprocess/dino-image';
import { cpuGraphFolder, FLOAT32_FORM_DIR } from '../../../../main/model/runtime/float32-form';
import { readModelManifest, type ModelManifest } from '../../../../main/model/runtime/model-manifest';
import { ReconModel } from '../../../../main/model/runtime/recon-pipeline';
import { SHARED_DIR } from '../../../support/shared-dir';

const GOLDEN = `${SHARED_DIR}/golden/g2vlm-tiny-a`;
const work = fs.mkdtempSync(join(os.tmpdir(), 'float32-form-'));
const fp32Dir = join(work, 'fp32');
const fp16Dir = join(work, 'fp16');
let images: RgbImage[];

function graphsOf(dir: string, manifest: ModelManifest): Map<string, onnx.ModelProto> {
  const out = new Map<string, onnx.ModelProto>();
  for (const [id, entry] of Object.entries(manifest.graphs)) {
    if (entry) out.set(id, onnx.ModelProto.decode(fs.readFileSync(join(dir, entry.file))));
  }
  return out;
}

/** Each external initializer's bytes, by name. */
function weightBytesOf(dir: string, model: onnx.ModelProto): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const init of model.graph?.initializer ?? []) {
    const field = (key: string) => init.externalData?.find((e) => e.key === key)?.value;
    const location = field('location');
    if (!location) continue;
    const fd = fs.openSync(join(dir, location), 'r');
    const bytes = Buffer.alloc(Number(field('length')));
    fs.readSync(fd, bytes, 0, bytes.length, Number(field('offset')));
    fs.closeSync(fd);
    out.set(init.name ?? '', bytes);
  }
  return out;
}

beforeAll(async () => {
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), fp32Dir, { precision: 'fp32' });
  await convertCheckpoint(join(GOLDEN, 'checkpoint'), fp16Dir, { precision: 'fp16' });
  const names = ['frame_00019.png', 'frame_00040.png', 'frame_00060.png'];
  images = await Promise.all(
    names.map((name) => decodeRgb(fs.readFileSync(join(GOLDEN, 'inputs/images', name)), name)),
  );
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the float32 form of an fp16 model (CPU)', () => {
  it("is the fp32 conversion's graphs and weights, written once", async () => {
    const fp16 = readModelManifest(fp16Dir);
    const progress: number[] = [];
    const form = await cpuGraphFolder(fp16Dir, fp16, (f) => progress.push(f));
    expect(form.note).toBeUndefined();
    expect(form.dir).toBe(join(fp16Dir, FLOAT32_FORM_DIR));
    expect(form.manifest.dtype).toBe('fp32');
    expect(progress.at(-1)).toBeCloseTo(1, 2);

    const fp32 = readModelManifest(fp32Dir);
    const expected = graphsOf(fp32Dir, fp32);
    const got = graphsOf(form.dir, form.manifest);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, model] of expected) {
      const formModel = got.get(id)!;
      // The same computation: the same ops in the same order, no Cast of a weight left.
      expect(
        formModel.graph!.node!.map((n) => n.opType),
        id,
      ).toEqual(model.graph!.node!.map((n) => n.opType));
      // The same weights (by name, type and shape) and the same constants (the Casts'
      // outputs used fresh names in the fp16 graphs, so constants are compared by content).
      const external = (i: onnx.ITensorProto) => (i.externalData?.length ?? 0) > 0;
      const weights = (m: onnx.ModelProto) =>
        (m.graph?.initializer ?? [])
          .filter(external)
          .map((i) => `${i.name} ${i.dataType} ${(i.dims ?? []).join('x')}`)
          .sort();
      const constants = (m: onnx.ModelProto) =>
        (m.graph?.initializer ?? [])
          .filter((i) => !external(i))
          .map((i) => Buffer.from(onnx.TensorProto.encode({ ...i, name: '' }).finish()).toString('hex'))
          .sort();
      expect(weights(formModel), id).toEqual(weights(model));
      expect(constants(formModel), id).toEqual(constants(model));
      // Each widened weight is exactly the fp32 weight rounded to fp16 (what the fp16 graphs computed with).
      const want = weightBytesOf(fp32Dir, model);
      const have = weightBytesOf(form.dir, formModel);
      expect([...have.keys()].sort(), id).toEqual([...want.keys()].sort());
      const half = halfToFloat32Table();
      for (const [name, bytes] of want) {
        const fp32Values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
        const rounded = Float32Array.from(fp32Values, (v) => half[float32ToHalfBits(v)]);
        expect(have.get(name)!.equals(Buffer.from(rounded.buffer)), `${id} ${name}`).toBe(true);
      }
    }

    // Made once: a second load reuses it.
    const weights = join(form.dir, form.manifest.weightsFile);
    const written = fs.statSync(weights).mtimeMs;
    const again = await cpuGraphFolder(fp16Dir, fp16);
    expect(again.dir).toBe(form.dir);
    expect(fs.statSync(weights).mtimeMs).toBe(written);
    expect(fs.readdirSync(fp16Dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('reconstructs like the fp16 graphs; a folder of its name that it did not make is left alone', async () => {
    // A copy of the fp16 model whose folder already holds a user's "float32-form" folder.
    const blocked = join(work, 'fp16-blocked');
    fs.cpSync(fp16Dir, blocked, {
      recursive: true,
      filter: (src) => !src.startsWith(join(fp16Dir, FLOAT32_FORM_DIR)),
    });
    fs.mkdirSync(join(blocked, FLOAT32_FORM_DIR));
    fs.writeFileSync(join(blocked, FLOAT32_FORM_DIR, 'notes.txt'), 'mine');

    const throughForm = await ReconModel.load(fp16Dir);
    const viaForm = await throughForm.reconstruct(images);
    await throughForm.release();
    const fromFp16 = await ReconModel.load(blocked);
    expect(fromFp16.providerNotes.join(' ')).toContain('is not a float32 form, so it was left alone');
    const viaFp16 = await fromFp16.reconstruct(images);
    await fromFp16.release();

    expect(viaForm.precision).toBe('fp16');
    expect(compareAllclose(viaForm.worldPoints, viaFp16.worldPoints, 1e-5, 1e-5).pass).toBe(true);
    expect(compareAllclose(viaForm.worldFromCamera, viaFp16.worldFromCamera, 1e-5, 1e-5).pass).toBe(true);
    expect(fs.readFileSync(join(blocked, FLOAT32_FORM_DIR, 'notes.txt'), 'utf8')).toBe('mine');
    expect(fs.readdirSync(join(blocked, FLOAT32_FORM_DIR))).toEqual(['notes.txt']);
  }, 180_000);

  it("removes a dead writer's temporary form and keeps a live one's", async () => {
    const dir = join(work, 'fp16-temps');
    fs.cpSync(fp16Dir, dir, {
      recursive: true,
      filter: (src) => !src.startsWith(join(fp16Dir, FLOAT32_FORM_DIR)),
    });
    // No process has pid 2^22 + 1 (above Linux's pid_max default); the parent of this process is alive.
    const dead = join(dir, `.${FLOAT32_FORM_DIR}.${2 ** 22 + 1}.tmp`);
    const live = join(dir, `.${FLOAT32_FORM_DIR}.${process.ppid}.tmp`);
    for (const temp of [dead, live]) {
      fs.mkdirSync(temp);
      fs.writeFileSync(join(temp, 'weights.bin'), 'partial');
    }
    const form = await cpuGraphFolder(dir, readModelManifest(dir));
    expect(form.dir).toBe(join(dir, FLOAT32_FORM_DIR));
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  }, 120_000);
});
