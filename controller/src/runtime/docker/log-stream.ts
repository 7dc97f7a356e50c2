/**
 * Docker multiplexes stdout/stderr of a non-TTY container into frames: 1 byte stream id,
 * 3 zero bytes, 4 bytes big-endian length, payload. Demultiplexed here (pure).
 */
export function demuxDockerLogs(buffer: Buffer): { stdout: string; stderr: string; combined: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  let offset = 0;
  // Not multiplexed (TTY containers): the whole buffer is the output.
  if (buffer.length >= 8 && !(buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0)) {
    const text = buffer.toString('utf8');
    return { stdout: text, stderr: '', combined: text };
  }
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset]!;
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size);
    (stream === 2 ? err : out).push(payload);
    all.push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), combined: Buffer.concat(all).toString('utf8') };
}
