// Turns generated token ids into text pieces as they arrive. A byte-level BPE
// token can end in the middle of a multi-byte UTF-8 character (emoji, CJK), so
// decoding token by token would emit U+FFFD halves; instead the whole answer is
// re-decoded and only the stable new suffix is emitted, holding back while the
// text ends in an incomplete character.

export interface TextDecoderLike {
  decode(ids: readonly number[]): string;
}

const REPLACEMENT = '\uFFFD';

export class StreamingTextDecoder {
  private readonly ids: number[] = [];
  private emitted = 0;

  constructor(private readonly tokenizer: TextDecoderLike) {}

  /** Adds one token; returns the text that became final (possibly ''). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    if (text.endsWith(REPLACEMENT)) return '';
    return this.take(text);
  }

  /** The rest of the text at the end of generation (incomplete bytes included as U+FFFD). */
  flush(): string {
    return this.take(this.tokenizer.decode(this.ids));
  }

  private take(text: string): string {
    if (text.length <= this.emitted) return '';
    const piece = text.slice(this.emitted);
    this.emitted = text.length;
    return piece;
  }
}
