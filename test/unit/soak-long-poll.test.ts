import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalClient, LONG_POLL_MS, longPollWait, PagePuller } from '../../controller/src/soak/index.js';

const page = (extra: Record<string, unknown> = {}) => ({ head: 0, last_seq: 0, entries: [], ...extra });

/** The soak's journal reads as a long-poll (GET /journal?wait=), against workers with and without it. */
describe('soak journal long-poll (client side)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)))));
  });

  async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; asked: string[] }> {
    const asked: string[] = [];
    const server = createServer((request, response) => {
      asked.push(request.url ?? '');
      handler(request, response);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
  }
  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  it('never holds past the soak\'s end', () => {
    expect(longPollWait(null, 5_000)).toBe(LONG_POLL_MS);
    expect(longPollWait(5_300, 5_000)).toBe(300);
    expect(longPollWait(4_000, 5_000)).toBe(0);
  });

  it('asks with wait; a worker that refuses the parameter (older) is asked again without it, and never with it again', async () => {
    const older = await serve((request, response) => {
      if (request.url?.includes('wait=')) json(response, 400, { ok: false, error: { code: 'WVO_JOURNAL_PARAM_INVALID', message: 'wait: Unrecognized key', subject: 'wait' } });
      else json(response, 200, page());
    });
    const client = new JournalClient(older.url, 't');
    expect(await client.page(0, 10, 800)).toEqual(page());
    expect(await client.page(0, 10, 800)).toEqual(page());
    expect(older.asked).toEqual(['/journal?after=0&limit=10&wait=800', '/journal?after=0&limit=10', '/journal?after=0&limit=10']);
    // A worker that ignores it answers at once, without `waited_ms`: the runner backs off as before.
    const ignoring = await serve((_request, response) => json(response, 200, page()));
    expect((await new JournalClient(ignoring.url, 't').page(3, 10, 800)).waited_ms).toBeUndefined();
    expect(ignoring.asked).toEqual(['/journal?after=3&limit=10&wait=800']);
    // Another 400 stays an error.
    const bad = await serve((_request, response) => json(response, 400, { ok: false, error: { code: 'WVO_JOURNAL_PARAM_INVALID', message: 'limit', subject: 'limit' } }));
    await expect(new JournalClient(bad.url, 't').page(0, 10, 800)).rejects.toMatchObject({ code: 'WVO_SOAK_JOURNAL_UNREACHABLE' });
    expect(bad.asked).toHaveLength(1);
  });

  it('a held pull outlives the client\'s timeout by its wait, and settle() drops a held prefetch at once', async () => {
    const holding = await serve((request, response) => {
      const wait = Number(new URL(request.url ?? '', 'http://x').searchParams.get('wait') ?? 0);
      setTimeout(() => json(response, 200, page({ waited_ms: wait })), wait);
    });
    // Timeout 200 ms, wait 400 ms: answered, not timed out.
    expect((await new JournalClient(holding.url, 't', 200).page(0, 10, 400)).waited_ms).toBe(400);
    const puller = new PagePuller(new JournalClient(holding.url, 't'));
    puller.prefetch(0, 10, 20_000);
    const started = Date.now();
    await puller.settle();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
