import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { McpProbe } from '../../controller/src/proxy/mcp-probe.js';
import { startProxy } from '../../controller/src/proxy/index.js';
import { loadRouteTable } from '../../controller/src/proxy/route-table.js';
import { startShadowFixture, type ShadowFixtureServer } from '../fixtures/shadow-mcp-server.js';
import { startRig, TOKEN, waitUntil, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A web server that is not MCP: every path answers an HTML page. */
async function startHtmlServer(): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>hello</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A third-party MCP server: MCP at /mcp and nothing else (no /readyz). */
async function startThirdParty(): Promise<ShadowFixtureServer> {
  const server = await startShadowFixture();
  cleanups.push(() => server.close());
  return server;
}

const origin = (url: string) => new URL(url).origin;

describe('proxy: MCP-native lane health', () => {
  it('a third-party MCP server is unhealthy on /readyz, healthy with health mcp, and a switch to it succeeds', async () => {
    rig = await startRig();
    const third = await startThirdParty();
    const byPath = await rig.admin.registerLane({ name: 'third', url: origin(third.url) });
    expect(byPath).toMatchObject({ healthy: false, health_check: '/readyz', health_reason: 'GET /readyz answered status 404' });
    await expect(rig.admin.switchTo('third')).rejects.toMatchObject({ code: 'WVO_PROXY_LANE_UNHEALTHY' });

    const byMcp = await rig.admin.registerLane({ name: 'third', url: origin(third.url), health: 'mcp' });
    expect(byMcp).toMatchObject({ healthy: true, health_check: 'mcp' });
    expect(byMcp.surface?.tools).toMatch(/^[0-9a-f]{16}$/);
    expect((await rig.admin.switchTo('third')).active).toBe('third');
    const session = await rig.open();
    expect((await session.call('echo', { value: 7 })).value).toEqual({ value: 7 });

    // The lane's own health is persisted; tables are read back through their schema.
    const table = await loadRouteTable(`${rig.dir}/routes.json`);
    expect(table?.lanes.find((l) => l.name === 'third')).toEqual({ name: 'third', url: origin(third.url), health: 'mcp' });
    expect(table?.lanes.find((l) => l.name === 'blue')).toEqual({ name: 'blue', url: rig.blue.url });
  });

  it('a server answering HTML is unhealthy with a reason that says it is not MCP; the switch is refused', async () => {
    rig = await startRig();
    const html = await startHtmlServer();
    const lane = await rig.admin.registerLane({ name: 'web', url: html, health: 'mcp' });
    expect(lane.healthy).toBe(false);
    expect(lane.health_reason).toBe('not an MCP server: POST /mcp answered 200 text/html; charset=utf-8 (expected application/json or text/event-stream)');
    await expect(rig.admin.switchTo('web')).rejects.toMatchObject({ code: 'WVO_PROXY_LANE_UNHEALTHY', message: expect.stringContaining('not an MCP server') });
    expect((await rig.admin.lanes()).active).toBe('blue');
  });

  it('keeps one health session per lane (no leak), survives the lane losing it, and DELETEs it at close', async () => {
    rig = await startRig({ health: 'mcp', healthIntervalMs: 20 });
    const { blue, green } = rig;
    await waitUntil(() => blue.stats.requests > 20); // about 10 checks
    expect(blue.sessionCount()).toBe(1);
    expect(green.sessionCount()).toBe(1);
    expect(blue.stats.initializes).toBe(1);
    await blue.dropSessions(); // as a restarted lane
    const before = blue.stats.requests;
    await waitUntil(() => blue.stats.requests > before + 6);
    const lanes = await rig.admin.lanes();
    expect(lanes.lanes.every((l) => l.healthy && l.health_check === 'mcp')).toBe(true);
    expect(blue.stats.initializes).toBe(2);
    expect(blue.sessionCount()).toBe(1);
    await rig.proxy.close();
    expect(blue.sessionCount()).toBe(0);
    expect(green.sessionCount()).toBe(0);
    expect(blue.stats.deletes).toBe(1);
  });

  it('a bad health spec is a coded error naming the field (admin body, --health)', async () => {
    rig = await startRig();
    await expect(rig.admin.registerLane({ name: 'x', url: rig.green.url, health: 'readyz' })).rejects.toMatchObject({
      code: 'WVO_PROXY_HEALTH_INVALID',
      subject: 'health',
    });
    expect((await rig.admin.lanes()).lanes.map((l) => l.name)).toEqual(['blue', 'green']);
    await expect(startProxy({ token: TOKEN, listen: '127.0.0.1:0', admin: '127.0.0.1:0', health: 'mcp:no-slash' })).rejects.toMatchObject({
      code: 'WVO_PROXY_HEALTH_INVALID',
      subject: '--health',
      exitCode: 2,
    });
  });

  it('checks per second one lane sustains with the MCP probe (reused session)', async () => {
    rig = await startRig();
    const probe = new McpProbe(rig.blue.url, '/mcp', 2_000);
    cleanups.push(() => probe.close());
    expect((await probe.check()).healthy).toBe(true);
    let checks = 0;
    const started = performance.now();
    while (performance.now() - started < 1_000) {
      const result = await probe.check();
      expect(result.healthy).toBe(true);
      checks += 1;
    }
    const perSecond = Math.round(checks / ((performance.now() - started) / 1000));
    console.info(`[mcp health] ${perSecond} checks/s on one lane (ping + tools/list per check)`);
    // The default is one check a second per lane; even on a loaded CI machine a lane takes several times that.
    expect(perSecond).toBeGreaterThan(5);
    expect(rig.blue.stats.initializes).toBe(1);
  });
});
