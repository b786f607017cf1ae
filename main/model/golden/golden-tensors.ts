// Reads golden tensors (safetensors files described by a golden manifest.json).
import { join } from 'node:path';
import { SafetensorsFile } from '../checkpoint/safetensors';

export interface GoldenTensor {
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/** Caches open files; `read('outputs/outputs.safetensors', 'recon.dino_out')`. */
export class GoldenTensorReader {
  private readonly files = new Map<string, Promise<SafetensorsFile>>();

  constructor(private readonly dir: string) {}

  private file(relative: string): Promise<SafetensorsFile> {
    let f = this.files.get(relative);
    if (!f) {
      f = SafetensorsFile.open(join(this.dir, relative));
      this.files.set(relative, f);
    }
    return f;
  }

  async has(relative: string, name: string): Promise<boolean> {
    try {
      return (await this.file(relative)).tensors.has(name);
    } catch {
      return false;
    }
  }

  async read(relative: string, name: string): Promise<GoldenTensor> {
    const f = await this.file(relative);
    const info = f.info(name);
    return { shape: [...info.shape], data: await f.readTyped(name) };
  }

  async readFloat32(relative: string, name: string): Promise<{ shape: number[]; data: Float32Array }> {
    const f = await this.file(relative);
    return { shape: [...f.info(name).shape], data: await f.readFloat32(name) };
  }

  async close(): Promise<void> {
    for (const f of this.files.values()) await (await f).close();
    this.files.clear();
  }
}

/** Element-wise `|a − g| ≤ atol + rtol·|g|` with the worst absolute / relative errors. */
export function compareAllclose(
  actual: ArrayLike<number>,
  golden: ArrayLike<number>,
  atol: number,
  rtol: number,
): { maxAbs: number; maxRel: number; pass: boolean; worstIndex: number } {
  if (actual.length !== golden.length)
    return { maxAbs: Infinity, maxRel: Infinity, pass: false, worstIndex: -1 };
  let maxAbs = 0;
  let maxRel = 0;
  let pass = true;
  let worstIndex = -1;
  for (let i = 0; i < golden.length; i++) {
    const g = golden[i];
    const d = Math.abs(actual[i] - g);
    if (!(d <= atol + rtol * Math.abs(g))) {
      if (pass) worstIndex = i;
      pass = false;
    }
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      if (pass) worstIndex = i;
    }
    const rel = d / Math.max(Math.abs(g), 1e-12);
    if (rel > maxRel && Math.abs(g) > atol) maxRel = rel;
  }
  return { maxAbs, maxRel, pass, worstIndex };
}
