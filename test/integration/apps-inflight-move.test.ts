import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { ProxyAdminClient, startProxy } from '../../controller/src/proxy/index.js';
import { LocalRuntime } from '../../controller/src/runtime/index.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { EVERYTHING, everythingApp } from '../helpers/everything.js';
import { sleep, waitUntil } from '../helpers/proxy-harness.js';

const defer = cleanupAfterEach();
const TOKEN = 'apps-inflight-token-0123456789';

/**
 * An SDK client that answers the server's sampling and elicitation requests only when the test
 * releases it: the answer comes strictly after the forced move, however slow the machine is
 * (a fixed delay raced the move's grace on loaded cores and tested another window).
 */
async function openAsker(url: string) {
  const client = new Client({ name: 'asker', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1.5, maxRetries: 100 },
  });
  let signal: () => void = () => undefined;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const answer = async <T>(value: T): Promise<T> => {
    signal();
    await released;
    return value;
  };
  client.setRequestHandler(CreateMessageRequestSchema, () => answer({ role: 'assistant' as const, model: 'fake', content: { type: 'text' as const, text: 'sampled-by-client' } }));
  client.setRequestHandler(ElicitRequestSchema, () => answer({ action: 'accept' as const, content: { name: 'Ada Lovelace' } }));
  await client.connect(transport);
  return { client, transport, asked: () => new Promise<void>((resolve) => (signal = resolve)), release };
}

function counter(metrics: string, name: string): number {
  return [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * server-everything's own sampling and elicitation tools, with the client still answering when the
 * move grace runs out: the session is moved by force, and the answer goes back to the lane that
 * asked (its tool call waits there), so the call completes with the client's answer.
 */
describe('apps: a forced move while server-everything waits for the client', () => {
  it('sampling and elicitation in flight during a forced move complete correctly (6 runs, both directions)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wvo-apps-inflight-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const runtime = new LocalRuntime({ runDir: join(dir, 'run'), readyTimeoutMs: 30_000 });
    const app = everythingApp().lane;
    defer(async () => {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name, { timeoutMs: 2_000 });
    });
    const [blue, green] = await Promise.all([
      runtime.startLane({ name: 'blue', image: EVERYTHING.a, stateDir: dir, role: 'live', dryRun: false, app }),
      runtime.startLane({ name: 'green', image: EVERYTHING.b, stateDir: dir, role: 'live', dryRun: false, app }),
    ]);
    const proxy = await startProxy({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      token: TOKEN,
      statePath: join(dir, 'routes.json'),
      lanes: [
        { name: 'blue', url: blue.url!, health: 'mcp' },
        { name: 'green', url: green.url!, health: 'mcp' },
      ],
      active: 'blue',
      healthIntervalMs: 100,
      drainTimeoutMs: 50,
      moveGraceMs: 200,
    });
    defer(() => proxy.close());
    const admin = new ProxyAdminClient({ url: proxy.adminUrl, token: TOKEN });
    defer(() => admin.close());
    await waitUntil(async () => (await admin.lanes()).lanes.every((l) => l.healthy), 10_000);

    const lanes = ['blue', 'green'] as const;
    for (let run = 0; run < 6; run++) {
      const [from, to] = [lanes[run % 2]!, lanes[(run + 1) % 2]!];
      const sampling = run % 2 === 0;
      const asker = await openAsker(proxy.url);
      const asked = asker.asked();
      const pending = sampling
        ? asker.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: `run ${run}`, maxTokens: 5 } }, undefined, { timeout: 10_000 })
        : asker.client.callTool({ name: 'trigger-elicitation-request', arguments: {} }, undefined, { timeout: 10_000 });
      await asked;
      expect((await admin.sessions()).sessions.find((s) => s.id === asker.transport.sessionId)?.lane).toBe(from);
      await admin.switchTo(to);
      // Moved by force (drain 50 ms + grace 200 ms) while the client has not answered yet; it answers now.
      await waitUntil(async () => (await admin.sessions()).sessions.find((s) => s.id === asker.transport.sessionId)?.lane === to, 3_000);
      asker.release();
      const result = (await pending) as { isError?: boolean; content: Array<{ text?: string }> };
      expect(result.isError, `run ${run}`).not.toBe(true);
      expect(JSON.stringify(result.content), `run ${run}`).toContain(sampling ? 'sampled-by-client' : 'Ada Lovelace');
      // The session carries on on the new lane.
      const echo = await asker.client.callTool({ name: 'echo', arguments: { message: `after ${run}` } });
      expect(JSON.stringify(echo.content), `run ${run}`).toContain(`after ${run}`);
      await asker.client.close();
    }
    const metrics = await admin.metrics();
    expect(counter(metrics, 'wvo_proxy_session_moves_forced_total')).toBe(6);
  }, 120_000);
});
