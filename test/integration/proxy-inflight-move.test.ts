import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseToolResult } from '../../common/src/mcp-client.js';
import { ASK_KINDS } from '../fixtures/mcp-fixture-server.js';
import { sleep, startRig, waitUntil, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await rig?.close();
  rig = undefined;
});

interface Asker {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Resolves when the server's request (elicitation, sampling or roots) reaches the client. */
  asked: () => Promise<void>;
}

/** An official SDK client that answers the server's requests after `answerAfterMs`. */
async function openAsker(url: string, answerAfterMs: number): Promise<Asker> {
  const client = new Client({ name: 'asker', version: '1.0.0' }, { capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} } });
  // Reconnect the GET stream quickly once the proxy closes it (the SDK default waits a second).
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1.5, maxRetries: 100 },
  });
  let signal: () => void = () => undefined;
  const answer = async <T>(value: T): Promise<T> => {
    signal();
    await sleep(answerAfterMs);
    return value;
  };
  client.setRequestHandler(ElicitRequestSchema, () => answer({ action: 'accept' as const, content: { name: 'ada' } }));
  client.setRequestHandler(CreateMessageRequestSchema, () =>
    answer({ role: 'assistant' as const, model: 'fake', content: { type: 'text' as const, text: 'hello' } }),
  );
  client.setRequestHandler(ListRootsRequestSchema, () => answer({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  await client.connect(transport);
  clients.push(client);
  return {
    client,
    transport,
    asked: () => new Promise<void>((resolve) => (signal = resolve)),
  };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 5_000 });
  expect(result.isError, JSON.stringify(result)).not.toBe(true);
  return parseToolResult(result as { content?: unknown }) as Record<string, unknown>;
}

async function streamOpen(rig: ProxyRig, sessionId: string | undefined): Promise<void> {
  await waitUntil(async () => ((await rig.admin.sessions()).sessions.find((s) => s.id === sessionId)?.open_streams ?? 0) > 0);
}

function counter(metrics: string, name: string): number {
  return [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('proxy: in-flight-aware session moves', () => {
  it('a session with a server request in flight is not moved mid-exchange (20 runs in a row, 100 ms drain)', async () => {
    rig = await startRig({ drainTimeoutMs: 100, moveGraceMs: 5_000 });
    const lanes = ['blue', 'green'] as const;
    for (let run = 0; run < 20; run++) {
      const from = lanes[run % 2]!;
      const to = lanes[(run + 1) % 2]!;
      const kind = ASK_KINDS[run % ASK_KINDS.length]!;
      // GET stream (the case) most of the time; the call's own POST stream every fourth run.
      const via = run % 4 === 3 ? 'post' : 'get';
      const asker = await openAsker(rig.proxy.url, 250);
      await streamOpen(rig, asker.transport.sessionId);
      const asked = asker.asked();
      const pending = call(asker.client, 'ask', { kind, via });
      await asked;
      await rig.admin.switchTo(to); // the 100 ms drain ends while the client is still answering
      const result = await pending;
      expect(result, `run ${run} (${kind} via ${via})`).toMatchObject({ lane: from, kind });
      // At the first quiet moment the session moves on.
      await waitUntil(async () => (await rig!.admin.sessions()).sessions.find((s) => s.id === asker.transport.sessionId)?.lane === to);
      expect(await call(asker.client, 'whoami'), `run ${run}`).toMatchObject({ lane: to });
      await asker.client.close();
    }
    const metrics = await rig.admin.metrics();
    expect(counter(metrics, 'wvo_proxy_session_moves_deferred_total')).toBe(20);
    expect(counter(metrics, 'wvo_proxy_session_moves_forced_total')).toBe(0);
  });

  it('moves a busy session anyway at the hard cap, and counts it as forced', async () => {
    rig = await startRig({ drainTimeoutMs: 50, moveGraceMs: 200 });
    const asker = await openAsker(rig.proxy.url, 1_000);
    await streamOpen(rig, asker.transport.sessionId);
    const asked = asker.asked();
    // Its outcome does not matter here (the exchange is cut); afterEach closes the client.
    void asker.client.callTool({ name: 'ask', arguments: { via: 'get' } }, undefined, { timeout: 2_000 }).catch(() => undefined);
    await asked;
    const switched = Date.now();
    await rig.admin.switchTo('green');
    await waitUntil(async () => (await rig!.admin.sessions()).sessions[0]?.lane === 'green', 3_000);
    const movedAfter = Date.now() - switched;
    expect(movedAfter).toBeGreaterThanOrEqual(250 - 20); // drain + grace, not before
    expect(movedAfter).toBeLessThan(1_000); // before the client answered
    const metrics = await rig.admin.metrics();
    expect(counter(metrics, 'wvo_proxy_session_moves_deferred_total')).toBe(1);
    expect(metrics).toMatch(/wvo_proxy_session_moves_forced_total\{lane="blue",reason="cap"\} 1/);
  });
  it('a forced move after the client answered lets the call finish on the lane it runs on: its result arrives, then the old upstream session is closed', async () => {
    rig = await startRig({ drainTimeoutMs: 50, moveGraceMs: 200 });
    const asker = await openAsker(rig.proxy.url, 0); // answers at once
    await streamOpen(rig, asker.transport.sessionId);
    const asked = asker.asked();
    // After the answer the call works 1.5 s more on blue: its POST is open when the move is forced.
    const pending = asker.client.callTool({ name: 'ask', arguments: { via: 'post', then_ms: 1_500 } }, undefined, { timeout: 5_000 });
    await asked;
    await rig.admin.switchTo('green');
    await waitUntil(async () => (await rig!.admin.sessions()).sessions[0]?.lane === 'green', 3_000);
    expect(rig.blue.stats.deletes).toBe(0); // not while the call runs there
    const result = await pending;
    expect(result.isError, JSON.stringify(result)).not.toBe(true);
    expect(parseToolResult(result as { content?: unknown })).toMatchObject({ lane: 'blue', kind: 'elicitation', answer: { action: 'accept' } });
    await waitUntil(async () => rig!.blue.stats.deletes === 1, 3_000); // freed once the call ended
    expect(await call(asker.client, 'whoami')).toMatchObject({ lane: 'green' });
    expect(await rig.admin.metrics()).toMatch(/wvo_proxy_session_moves_forced_total\{lane="blue",reason="cap"\} 1/);
  });
});
