import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startFixtureServer, type FixtureServer } from '../fixtures/mcp-fixture-server.js';
import { sleep, startRig, waitUntil, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rig?.close();
  rig = undefined;
});

describe('proxy: list_changed at cutover', () => {
  it('a session moved to a lane with another surface gets tools/list_changed on its GET stream; same surface, none', async () => {
    // green advertises one more tool; "twin" is a second lane with blue's surface.
    rig = await startRig(
      { health: 'mcp', drainTimeoutMs: 100, healthIntervalMs: 1_000 },
      { green: { extend: (server) => server.registerTool('extra', { description: 'only on green' }, async () => ({ content: [] })) } },
    );
    const twin: FixtureServer = await startFixtureServer({ lane: 'twin' });
    cleanups.push(() => twin.close());
    await rig.admin.registerLane({ name: 'twin', url: twin.url });
    await waitUntil(async () => (await rig!.admin.lanes()).lanes.every((l) => l.healthy && l.surface !== undefined));
    const surfaces = new Map((await rig.admin.lanes()).lanes.map((l) => [l.name, l.surface!.tools]));
    expect(surfaces.get('twin')).toBe(surfaces.get('blue'));
    expect(surfaces.get('green')).not.toBe(surfaces.get('blue'));

    const client = new Client({ name: 'listener', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${rig.proxy.url}/mcp`), {
      reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1.5, maxRetries: 100 },
    });
    const notified: number[] = [];
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified.push(Date.now()));
    await client.connect(transport);
    cleanups.push(() => client.close());
    const sessionOn = async () => (await rig!.admin.sessions()).sessions.find((s) => s.id === transport.sessionId);
    await waitUntil(async () => (await sessionOn())?.open_streams === 1);

    await rig.admin.switchTo('twin'); // same surface: moved, not told
    await waitUntil(async () => (await sessionOn())?.lane === 'twin' && (await sessionOn())?.open_streams === 1);
    await sleep(150);
    expect(notified).toEqual([]);

    await rig.admin.switchTo('green'); // another surface: told once, on the stream, and the new tool is listed
    await waitUntil(() => notified.length > 0);
    expect((await sessionOn())?.lane).toBe('green');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('extra');
    await sleep(150);
    expect(notified).toHaveLength(1);
  });
});
