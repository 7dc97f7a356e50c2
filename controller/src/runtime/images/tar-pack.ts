import { createReadStream, readFileSync } from 'node:fs';

import { Readable } from 'node:stream';

/**
 * A minimal streaming tar (ustar + PAX long names) writer. Build contexts and the offline base
 * rootfs are generated file lists, not directories, so we write the tar ourselves instead of
 * packing a staging copy; no dependency beyond node:fs.
 */

export type TarEntry =
  | { type: 'file'; path: string; mode?: number; size: number; source: string; uid?: number; gid?: number }
  | { type: 'file'; path: string; mode?: number; content: Buffer; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string; uid?: number; gid?: number };

/** Fixed mtime: the same inputs give the same bytes (and the engine's cache ignores mtimes anyway). */
const MTIME = 946684800;
const BLOCK = 512;
const SMALL_FILE = 256 * 1024;
const CHUNK = 256 * 1024;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`);
}

function header(fields: { name: string; mode: number; uid: number; gid: number; size: number; type: string; linkname?: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(fields.uid, 8), 108, 'ascii');
  block.write(octal(fields.gid, 8), 116, 'ascii');
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(MTIME, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(fields.type, 156, 'ascii');
  if (fields.linkname) block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Headers for one entry: a PAX header first when a name does not fit ustar's 100 bytes. */
function entryHeaders(entry: TarEntry, size: number): Buffer[] {
  const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const linkname = entry.type === 'symlink' ? entry.target : undefined;
  const out: Buffer[] = [];
  const records: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
  if (linkname && Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
  if (records.length > 0) {
    const body = Buffer.concat(records);
    out.push(header({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, type: 'x' }), body, padding(body.length));
  }
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  const type = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
  out.push(
    header({
      name: name.slice(0, 100),
      mode,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      size,
      type,
      ...(linkname ? { linkname: linkname.slice(0, 100) } : {}),
    }),
  );
  return out;
}

async function* generate(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, counter?: { bytes: number }): AsyncGenerator<Buffer> {
  const count = (b: Buffer) => {
    if (counter) counter.bytes += b.length;
    return b;
  };
  for await (const entry of entries) {
    if (entry.type !== 'file') {
      for (const b of entryHeaders(entry, 0)) yield count(b);
      continue;
    }
    if ('content' in entry) {
      for (const b of entryHeaders(entry, entry.content.length)) yield count(b);
      yield count(entry.content);
      yield count(padding(entry.content.length));
      continue;
    }
    for (const b of entryHeaders(entry, entry.size)) yield count(b);
    if (entry.size <= SMALL_FILE) {
      // One synchronous read for small files (most of node_modules): no stream and no threadpool hop each.
      const content = readFileSync(entry.source);
      if (content.length < entry.size) throw new Error(`${entry.source} shrank while packing (${content.length} < ${entry.size} bytes)`);
      yield count(content.subarray(0, entry.size));
      yield count(padding(entry.size));
      continue;
    }
    let written = 0;
    for await (const chunk of createReadStream(entry.source) as AsyncIterable<Buffer>) {
      // A file that grew since it was listed is cut to its listed size (tar headers are fixed).
      const part = written + chunk.length > entry.size ? chunk.subarray(0, entry.size - written) : chunk;
      written += part.length;
      yield count(part);
      if (written >= entry.size) break;
    }
    if (written < entry.size) throw new Error(`${entry.source} shrank while packing (${written} < ${entry.size} bytes)`);
    yield count(padding(entry.size));
  }
  yield count(Buffer.alloc(BLOCK * 2));
}

/** Coalesce many small buffers into ~256 KiB chunks (fewer writes to the engine's socket). */
async function* coalesce(source: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const buffer of source) {
    pending.push(buffer);
    size += buffer.length;
    if (size >= CHUNK) {
      yield Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/** A readable tar stream of `entries`; `counter.bytes` tracks bytes produced (for progress). */
export function packTar(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, counter?: { bytes: number }): Readable {
  return Readable.from(coalesce(generate(entries, counter)), { objectMode: false });
}
