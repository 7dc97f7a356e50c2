import type { Writable } from 'node:stream';
import { once } from 'node:events';

/**
 * A minimal streaming tar reader for what `getArchive` returns (ustar, GNU or PAX long names):
 * regular files go to the writable `open(path)` gives (or are skipped when it gives none). The
 * writer for images is images/tar-pack.ts; this is its read side, for state fetched from a host.
 */
const BLOCK = 512;

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
}

function paxPath(body: Buffer): string | undefined {
  for (const record of body.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

export async function extractTar(stream: NodeJS.ReadableStream, open: (path: string) => Writable | undefined): Promise<string[]> {
  const written: string[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let nextName: string | undefined;
  // The entry being read: bytes left of its body (and its padding), and where they go.
  let remaining = 0;
  let padding = 0;
  let sink: Writable | undefined;
  let collect: Buffer[] | undefined;
  let collectKind: 'pax' | 'longname' | undefined;
  const finishEntry = async () => {
    if (sink) {
      sink.end();
      await once(sink, 'close');
      sink = undefined;
    }
    if (collect) {
      const body = Buffer.concat(collect);
      nextName = collectKind === 'pax' ? (paxPath(body) ?? nextName) : field(body, 0, body.length);
      collect = undefined;
      collectKind = undefined;
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      if (remaining > 0) {
        if (buffer.length === 0) break;
        const take = Math.min(remaining, buffer.length);
        const part = buffer.subarray(0, take);
        if (sink && !sink.write(part)) await once(sink, 'drain');
        collect?.push(Buffer.from(part));
        buffer = buffer.subarray(take);
        remaining -= take;
        if (remaining === 0) await finishEntry();
        continue;
      }
      if (padding > 0) {
        const take = Math.min(padding, buffer.length);
        buffer = buffer.subarray(take);
        padding -= take;
        if (padding > 0) break;
        continue;
      }
      if (buffer.length < BLOCK) break;
      const header = buffer.subarray(0, BLOCK);
      buffer = buffer.subarray(BLOCK);
      if (header.every((b) => b === 0)) continue;
      const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156] ?? 48);
      const prefix = field(header, 345, 155);
      const name = nextName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      remaining = size;
      padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (type === 'x' || type === 'L') {
        collect = [];
        collectKind = type === 'x' ? 'pax' : 'longname';
      } else {
        nextName = undefined;
        if (type === '0' || type === '\0') {
          sink = open(name.replace(/^\.\//, ''));
          if (sink) written.push(name);
        }
      }
      if (remaining === 0) await finishEntry();
    }
  }
  return written;
}
