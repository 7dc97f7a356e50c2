import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { ProxyAdminClient, startProxy, type ProxyOptions, type RunningProxy } from '../../controller/src/proxy/index.js';
import { startFixtureServer, type FixtureServer } from '../fixtures/mcp-fixture-server.js';

type FixtureOptions = Omit<Parameters<typeof startFixtureServer>[0], 'lane'>;

/** Per-lane fixture options (e.g. `extend` to give green a different tool surface). */
export interface RigLanes {
  blue?: FixtureOptions;
  green?: FixtureOptions;
}

export const TOKEN = 'test-token-0123456789';

export interface ProxyRig {
  blue: FixtureServer;
  green: FixtureServer;
  proxy: RunningProxy;
  admin: ProxyAdminClient;
  dir: string;
  open(): Promise<McpSession>;
  close(): Promise<void>;
}

/** Two real MCP lanes (blue active), a proxy in front, an admin client; everything on loopback port 0. */
export async function startRig(overrides: Partial<ProxyOptions> = {}, lanes: RigLanes = {}): Promise<ProxyRig> {
  const dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-test-'));
  const blue = await startFixtureServer({ ...lanes.blue, lane: 'blue' });
  const green = await startFixtureServer({ ...lanes.green, lane: 'green' });
  const sessions: McpSession[] = [];
  let proxy: RunningProxy | undefined;
  try {
    proxy = await startProxy({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      token: TOKEN,
      statePath: join(dir, 'routes.json'),
      lanes: [
        { name: 'blue', url: blue.url },
        { name: 'green', url: green.url },
      ],
      active: 'blue',
      healthIntervalMs: 100,
      drainTimeoutMs: 500,
      ...overrides,
    });
  } catch (error) {
    await Promise.all([blue.close(), green.close()]);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const admin = new ProxyAdminClient({ url: proxy.adminUrl, token: TOKEN });
  const running = proxy;
  await waitUntil(async () => (await admin.lanes()).lanes.every((l) => l.healthy));
  return {
    blue,
    green,
    proxy: running,
    admin,
    dir,
    async open() {
      const session = await connectMcp(`${running.url}/mcp`, 'proxy-test');
      sessions.push(session);
      return session;
    },
    async close() {
      await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
      await admin.close();
      await running.close();
      await Promise.all([blue.close(), green.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 5_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
