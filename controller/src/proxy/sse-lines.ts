/**
 * Splits a streamed SSE body into lines as it passes and hands on each complete `data:` line's
 * payload, without holding the stream back: it keeps references to the chunks of the current
 * line only. A line longer than `limit` bytes is skipped (its payload is never delivered).
 */
const NEWLINE = 0x0a;
const DATA = Buffer.from('data:');

export class SseDataLines {
  private pieces: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(
    private readonly limit: number,
    private readonly onPayload: (payload: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      this.keep(chunk.subarray(from, nl));
      this.line();
      from = nl + 1;
    }
    if (from < chunk.length) this.keep(chunk.subarray(from));
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    this.line();
  }

  private keep(piece: Buffer): void {
    if (this.overflow || piece.length === 0) return;
    this.size += piece.length;
    if (this.size > this.limit) {
      this.overflow = true;
      this.pieces = [];
      return;
    }
    this.pieces.push(piece);
  }

  private line(): void {
    if (!this.overflow && this.size > 0) {
      const line = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.size);
      if (line.subarray(0, DATA.length).equals(DATA)) this.onPayload(line.subarray(DATA.length));
    }
    this.pieces = [];
    this.size = 0;
    this.overflow = false;
  }
}
