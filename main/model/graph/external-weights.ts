// Writes the weights of one converted model into a single external-data file.
// Offsets are page-aligned so ORT can map the tensors straight from the file
// (docs/onnx-runtime-notes.md §7); each tensor is written once even when
// several graphs (causal / non-causal LLM) reference it.
import * as fs from 'node:fs';
import type { ExternalLocation } from './graph-builder';

const PAGE = 4096;

export class ExternalWeightsWriter {
  private readonly fd: number;
  private position = 0;
  private readonly written = new Map<string, ExternalLocation>();

  /** `filePath` is where to write; `location` is the name graphs use to find it (relative to the model files). */
  constructor(
    filePath: string,
    private readonly location: string,
  ) {
    this.fd = fs.openSync(filePath, 'w');
  }

  has(name: string): boolean {
    return this.written.has(name);
  }

  locate(name: string): ExternalLocation {
    const found = this.written.get(name);
    if (!found) throw new Error(`weight ${name} was not written`);
    return found;
  }

  write(name: string, bytes: Uint8Array): ExternalLocation {
    const existing = this.written.get(name);
    if (existing) return existing;
    const offset = Math.ceil(this.position / PAGE) * PAGE;
    let done = 0;
    while (done < bytes.byteLength) {
      done += fs.writeSync(this.fd, bytes, done, bytes.byteLength - done, offset + done);
    }
    this.position = offset + bytes.byteLength;
    const where = { location: this.location, offset, length: bytes.byteLength };
    this.written.set(name, where);
    return where;
  }

  get byteLength(): number {
    return this.position;
  }

  close(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}
