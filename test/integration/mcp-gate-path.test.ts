import { afterEach, describe, expect, it } from 'vitest';
import { checkMcp } from '../../controller/src/operations/mcp-gate.js';
import { startShadowFixture, type ShadowFixtureServer } from '../fixtures/shadow-mcp-server.js';

const servers: ShadowFixtureServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** The switch gate asks an app's own MCP path: a server on /rpc passes there and fails at /mcp. */
describe('switch gate: MCP at the app path', () => {
  it('initialize, ping and tools/list at /rpc; the default /mcp answers 404 there', async () => {
    const server = await startShadowFixture({ mcpPath: '/rpc' });
    servers.push(server);
    const origin = new URL(server.url).origin;
    const atRpc = await checkMcp(origin, 5_000, '/rpc');
    expect(atRpc).toMatchObject({ ok: true });
    expect(atRpc.ok && atRpc.tools).toBeGreaterThan(0);
    const atDefault = await checkMcp(origin, 5_000);
    expect(atDefault).toMatchObject({ ok: false, detail: expect.stringMatching(/^initialize: /) });
  });
});
