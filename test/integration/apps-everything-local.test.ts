import { describe, expect, it } from 'vitest';
import { readShadowJson } from '../../controller/src/shadow/index.js';
import { startLoad } from '../../common/src/mcp-load.js';
import { EVERYTHING_CALLS, startAppRig } from '../helpers/app-rig.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { EVERYTHING, EVERYTHING_SUITE } from '../helpers/everything.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const defer = cleanupAfterEach();

/**
 * A real third-party MCP server (the protocol's "everything" server, two published versions from
 * npm) upgraded with WVO as local commands: image to image, MCP health, a suite of its tools,
 * the tool-surface gate, promote and rollback under SDK load.
 */
describe('apps: server-everything as local commands', () => {
  it('upgrades 2026.1.26 → 2026.8.31 (additive surface) under load, promotes, rolls back: 0 failed requests', async () => {
    const rig = await startAppRig({ runtime: 'local', baseline: EVERYTHING.a });
    defer(() => rig.close());
    const load = await startLoad({ url: rig.proxy.url, sessions: 8, intervalMs: 20, maxDurationMs: 280_000, calls: EVERYTHING_CALLS });
    defer(() => load.stop());

    const up = await rig.wvo(['upgrade', '--app', 'everything', '--candidate', EVERYTHING.b, '--suite', EVERYTHING_SUITE, '--promote', '--observe', '1s', '--interval', '500ms', '--keep-warm', '1s']);
    expect(up.exitCode, up.stderr.slice(-3000) + up.stdout.slice(-3000)).toBe(0);
    const out = JSON.parse(up.stdout) as { deployment: { id: string; state: string; upgradeId: string } };
    expect(out.deployment.state).toBe('promoted');
    expect((await rig.admin.lanes()).active).toBe('green');
    const green = await rig.runtime.getLane('green');
    expect(green).toMatchObject({ app: 'everything', health: 'mcp', image: EVERYTHING.b });

    const shadowJson = `${rig.root}/experiments/mcp/upgrade/${out.deployment.upgradeId}/shadow.json`;
    const shadow = await readShadowJson(shadowJson);
    expect(shadow.tool_surface).toMatchObject({ breaking: 0, additive: 9, informational: 27 });
    expect(shadow.calls.map((c) => c.name)).toEqual(['echo', 'sum', 'tiny image', 'structured']);
    expect(shadow.skipped_calls?.map((s) => s.call)).toEqual(['env', 'logging on']);

    const back = await rig.wvo(['rollback', out.deployment.id]);
    expect(back.exitCode, back.stderr.slice(-2000) + back.stdout.slice(-2000)).toBe(0);
    expect((await rig.admin.lanes()).active).toBe('blue');

    const traffic = await load.stop();
    console.log(`[apps local] requests sent ${traffic.sent}, failed ${traffic.failed}`);
    expect(traffic.sent).toBeGreaterThan(50);
    expect(traffic.sessionsAlive).toBe(8);
    expectNoFailedRequests(traffic);
  }, 180_000);
});
