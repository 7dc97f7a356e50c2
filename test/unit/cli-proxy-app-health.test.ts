import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxyOptionsFromFlags } from '../../controller/src/cli/commands/proxy.js';

/** `wvo proxy --app NAME`: the app's health from wvo.config.json is the default of `--health` (issue 13). */
let dir: string;
let config: string;

const flags = (extra: Record<string, unknown>) =>
  ({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', drainTimeout: '30s', sessionPolicy: 'move', moveGrace: '30s', lane: [], healthInterval: '1s', connections: '8', config, ...extra }) as Parameters<typeof proxyOptionsFromFlags>[0];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-proxy-app-'));
  config = join(dir, 'wvo.config.json');
  const app = { command: ['node', 'server.js'], port: 3001 };
  writeFileSync(config, JSON.stringify({ apps: { everything: { ...app, mcpPath: '/mcp', health: 'mcp' }, other: { ...app, mcpPath: '/rpc', health: 'mcp' }, plain: { ...app, mcpPath: '/mcp', health: '/health' } } }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('wvo proxy --app', () => {
  it("takes the app's health check as the default, at the app's MCP path", async () => {
    expect((await proxyOptionsFromFlags(flags({ app: 'everything' }))).health).toBe('mcp');
    expect((await proxyOptionsFromFlags(flags({ app: 'plain' }))).health).toBe('/health');
    expect((await proxyOptionsFromFlags(flags({ app: 'other' }))).health).toBe('mcp:/rpc');
    expect((await proxyOptionsFromFlags(flags({ app: 'worker' }))).health).toBe('/readyz');
  });

  it('an explicit --health wins; without --app the default stays /readyz', async () => {
    expect((await proxyOptionsFromFlags(flags({ app: 'everything', health: '/readyz' }))).health).toBe('/readyz');
    expect((await proxyOptionsFromFlags(flags({}))).health).toBe('/readyz');
  });

  it('an unknown app is a coded error naming --app', async () => {
    const error = await proxyOptionsFromFlags(flags({ app: 'nope' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WVO_APP_UNKNOWN', subject: '--app' });
    expect((error as Error).message).toContain('everything');
  });
});
