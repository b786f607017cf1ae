// A pass-through stream that fails once more than a limit of bytes went by,
// counting what passed: the bound on every upload body (web server) and on
// each file of a folder upload (core), whose errors differ.
import { Transform, type TransformCallback } from 'node:stream';

export class ByteLimit extends Transform {
  /** Bytes that went by so far. */
  seen = 0;

  constructor(
    private readonly limitBytes: number,
    /** The error the stream fails with once the limit is passed. */
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limitBytes) callback(this.tooLarge());
    else callback(null, chunk);
  }
}
