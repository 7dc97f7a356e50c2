import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/src/clock.js';
import { RuntimeError } from '../../controller/src/runtime/errors.js';
import { findListening } from '../../controller/src/runtime/local/process-table.js';
import { demuxDockerLogs } from '../../controller/src/runtime/docker/log-stream.js';
import { probeReady, waitReady } from '../../controller/src/runtime/readiness.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve(statuses: number[]): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(statuses.length > 1 ? statuses.shift()! : statuses[0]!);
    res.end('{}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('waitReady', () => {
  it('returns once /readyz answers 200', async () => {
    const url = await serve([503, 503, 200]);
    await expect(waitReady({ lane: 'l', url: async () => url, timeoutMs: 5000, clock: new ManualClock() })).resolves.toBe(url);
  });

  it('throws WVO_LANE_NOT_READY at the deadline, with the log tail', async () => {
    const url = await serve([503]);
    const error = await waitReady({ lane: 'l', url: async () => url, timeoutMs: 1000, clock: new ManualClock(), logs: async () => 'line one\nwhy it hangs' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WVO_LANE_NOT_READY', subject: 'l' });
    expect((error as Error).message).toContain('why it hangs');
  });

  it('stops at once when the lane died, with its error', async () => {
    const died = new RuntimeError('WVO_LANE_EXITED', 'gone');
    await expect(waitReady({ lane: 'l', url: async () => undefined, timeoutMs: 60_000, clock: new ManualClock(), failure: async () => died })).rejects.toBe(died);
  });

  it('probeReady never throws on a closed port', async () => {
    expect(await probeReady('http://127.0.0.1:1', 500)).toMatchObject({ ready: false });
  });
});

describe('worker output parsing', () => {
  it('finds the listening line among pino logs', () => {
    const out = '{"level":30,"msg":"worker listening"}\nnot json\n{"event":"listening","port":4321,"url":"http://127.0.0.1:4321"}\n';
    expect(findListening(out)).toEqual({ port: 4321, url: 'http://127.0.0.1:4321' });
    expect(findListening('{"event":"listening"}')).toBeUndefined();
  });

  it('demultiplexes docker log frames', () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const logs = demuxDockerLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more\n')]));
    expect(logs).toEqual({ stdout: 'out\nmore\n', stderr: 'err\n', combined: 'out\nerr\nmore\n' });
  });
});
