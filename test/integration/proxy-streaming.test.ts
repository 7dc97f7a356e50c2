import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startRig, waitUntil, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
let extra: Server | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  if (extra) {
    extra.closeAllConnections();
    await new Promise((resolve) => extra!.close(resolve));
    extra = undefined;
  }
});

const PROTOCOL = '2025-06-18';

/** A raw Streamable HTTP session (fetch), for checks the SDK client hides. */
async function rawSession(base: string): Promise<{ id: string; headers: Record<string, string> }> {
  const init = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  await init.text();
  const id = init.headers.get('mcp-session-id')!;
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-session-id': id,
    'mcp-protocol-version': PROTOCOL,
  };
  const note = await fetch(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(note.status).toBe(202);
  return { id, headers };
}

describe('proxy: transparent streaming and upstream hygiene', () => {
  it('relays SSE events as the lane writes them (no buffering), several POST streams per session', async () => {
    rig = await startRig();
    const session = await rig.open();
    const run = async () => {
      const started = performance.now();
      const arrivals: number[] = [];
      await session.client.callTool({ name: 'stream', arguments: { count: 5, interval_ms: 100 } }, undefined, {
        onprogress: () => arrivals.push(performance.now() - started),
      });
      return { arrivals, total: performance.now() - started };
    };
    const [a, b] = await Promise.all([run(), run()]);
    for (const { arrivals, total } of [a, b]) {
      expect(arrivals).toHaveLength(5);
      // the first event arrives long before the stream ends (~100 ms vs ~500 ms; a busy machine stretches both)
      expect(total - arrivals[0]!).toBeGreaterThan(300);
      // spread over the stream's life (a buffering proxy delivers all five at once)
      expect(arrivals[4]! - arrivals[0]!).toBeGreaterThan(250);
    }
  });

  it('relays the GET stream at once (headers before any event)', async () => {
    rig = await startRig();
    const { headers } = await rawSession(rig.proxy.url);
    const controller = new AbortController();
    // The lane sends no event on this stream: a proxy that waited for one would never answer.
    const response = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': headers['mcp-session-id']!, 'mcp-protocol-version': PROTOCOL },
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    controller.abort();
    // a POST stream whose lane stays silent still gets its headers promptly (not with the result)
    const postStarted = performance.now();
    const post = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 1_500 } } }),
    });
    const headersAt = performance.now();
    expect(post.headers.get('content-type')).toContain('text/event-stream');
    expect(await post.text()).toContain('slept');
    // the headers came well before the result (the lane sleeps 1.5 s before answering)
    expect(performance.now() - headersAt, `headers after ${Math.round(headersAt - postStarted)} ms`).toBeGreaterThan(500);
  });

  it('sends the headers of each silent POST stream on its own, with quick calls finishing between them', async () => {
    rig = await startRig();
    const { headers } = await rawSession(rig.proxy.url);
    const target = rig.proxy.service.target('blue')!;
    const call = (id: number, name: string, args: Record<string, unknown>) =>
      fetch(`${rig!.proxy.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
    const silent: Response[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await call(10 + i, 'sleep', { ms: 3_000 });
      // Its headers came while every sleep started so far (this one included) is still running.
      expect(target.inflight).toBe(i + 1);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      silent.push(response);
      // A call answered at once meanwhile leaves the waiting streams' headers unaffected.
      const quick = await call(20 + i, 'whoami', {});
      expect(await quick.text()).toContain('blue');
    }
    for (const response of silent) expect(await response.text()).toContain('slept');
    await waitUntil(() => target.inflight === 0, 1_000);
  });

  it('aborts the upstream request at once when the client disconnects', async () => {
    rig = await startRig();
    const { headers } = await rawSession(rig.proxy.url);
    const controller = new AbortController();
    const pending = fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 10_000 } } }),
      signal: controller.signal,
    }).then((r) => r.text());
    await waitUntil(() => rig!.proxy.service.target('blue')!.inflight === 1);
    const before = rig.blue.stats.aborted;
    const abortedAt = performance.now();
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitUntil(() => rig!.blue.stats.aborted > before, 1_000, 2);
    // at once: long before the 10 s call would have ended (a busy machine may take a while to schedule it)
    expect(rig.blue.stats.lastAbortAt! - abortedAt).toBeLessThan(2_000);
    await waitUntil(() => rig!.proxy.service.target('blue')!.inflight === 0, 1_000);
    expect(await rig.admin.metrics()).toMatch(/wvo_proxy_client_aborts_total\{lane="blue"\} 1/);
  });

  it('times out an upstream that never answers (504) and rejects oversized bodies (413)', async () => {
    extra = createServer((req, res) => {
      if (req.url === '/readyz') return res.end('ok');
      // /mcp: never answer
    });
    await new Promise<void>((resolve) => extra!.listen(0, '127.0.0.1', resolve));
    const port = (extra.address() as AddressInfo).port;
    rig = await startRig({ headersTimeoutMs: 300, maxBodyBytes: 2048 });
    await rig.admin.registerLane({ name: 'hole', url: `http://127.0.0.1:${port}` });
    await rig.admin.switchTo('hole');
    const started = performance.now();
    const response = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(response.status).toBe(504);
    expect(await response.text()).toContain('WVO_PROXY_UPSTREAM_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(10_000); // the 300 ms headers timeout, not "never"
    const big = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(4096) } }),
    });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('WVO_PROXY_BODY_TOO_LARGE');
  });

  it('closes a drained session GET stream at the deadline; the SDK client reconnects on the new lane', async () => {
    rig = await startRig({ drainTimeoutMs: 300 });
    const session = await rig.open();
    await session.call('whoami');
    await waitUntil(() => rig!.proxy.sessions.get(session.sessionId!)!.streams.size === 1);
    await rig.admin.switchTo('green');
    await sleep(150);
    expect(rig.proxy.sessions.get(session.sessionId!)!.streams.size).toBe(1); // not cut before the deadline
    await waitUntil(() => rig!.proxy.sessions.get(session.sessionId!)!.streams.size === 0, 2_000);
    // the client's reconnect (about 1 s later) re-initializes the session on green
    await waitUntil(() => rig!.proxy.sessions.get(session.sessionId!)!.lane === 'green', 5_000);
    expect((await session.call('whoami')).value).toMatchObject({ lane: 'green' });
  });
});
