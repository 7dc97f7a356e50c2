import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readShadowJson } from '../../controller/src/shadow/index.js';
import { startLoad } from '../../common/src/mcp-load.js';
import { EVERYTHING_CALLS, startAppRig } from '../helpers/app-rig.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { describeDocker } from '../helpers/docker.js';
import { buildEverythingImages, EVERYTHING_SUITE } from '../helpers/everything.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';
import { cleanupProject, removeImageTag, testId } from '../helpers/runtime-fixtures.js';

const defer = cleanupAfterEach();

/**
 * server-everything 2026.1.26 and 2026.8.31 packaged as images on our offline base, upgraded
 * image to image behind the proxy: MCP health, a suite of its tools, the tool-surface gate
 * (additive passes, breaking blocks --promote), promote and rollback under SDK load.
 */
describeDocker('apps: server-everything as images on the docker runtime', () => {
  const docker = new Docker();
  const project = testId('wvo-ev');
  const prefix = `wvo-everything-${project}`;
  let images: { a: string; b: string };

  beforeAll(async () => {
    images = await buildEverythingImages(docker, prefix);
  }, 180_000);

  afterAll(async () => {
    await cleanupProject(docker, project);
    for (const tag of [`${prefix}:a`, `${prefix}:b`]) await removeImageTag(docker, tag);
  });

  it('a → b passes the gate and is promoted under load; b → a is breaking and refused; rollback: 0 failed requests', async () => {
    const rig = await startAppRig({ runtime: 'docker', baseline: images.a, project });
    defer(() => rig.close());
    expect((await rig.admin.lanes()).lanes.find((l) => l.name === 'blue')).toMatchObject({ healthy: true });
    const load = await startLoad({ url: rig.proxy.url, sessions: 8, intervalMs: 20, maxDurationMs: 280_000, calls: EVERYTHING_CALLS });
    defer(() => load.stop());

    const up = await rig.wvo(['upgrade', '--app', 'everything', '--candidate', images.b, '--suite', EVERYTHING_SUITE, '--promote', '--observe', '1s', '--interval', '500ms', '--keep-warm', '1s']);
    expect(up.exitCode, up.stderr.slice(-3000) + up.stdout.slice(-3000)).toBe(0);
    const first = JSON.parse(up.stdout) as { deployment: { id: string; state: string; upgradeId: string } };
    expect(first.deployment.state).toBe('promoted');
    expect((await rig.admin.lanes()).active).toBe('green');
    expect(await rig.runtime.getLane('green')).toMatchObject({ app: 'everything', health: 'mcp', image: images.b });
    const shadow = await readShadowJson(`${rig.root}/experiments/mcp/upgrade/${first.deployment.upgradeId}/shadow.json`);
    expect(shadow.tool_surface).toMatchObject({ breaking: 0, additive: 9, informational: 27 });
    expect(shadow.calls.map((c) => c.name)).toEqual(['echo', 'sum', 'tiny image', 'structured']);
    expect(shadow.totals.count).toBe(0);

    // Back to the older version: annotations and widened inputs go away, which clients may rely on.
    const down = await rig.wvo(['upgrade', '--app', 'everything', '--candidate', images.a, '--suite', EVERYTHING_SUITE, '--promote', '--observe', '1s']);
    expect(down.exitCode).toBe(1);
    const refused = JSON.parse(down.stdout) as { error: { code: string; details: Record<string, number> } };
    expect(refused.error).toMatchObject({ code: 'WVO_SURFACE_BREAKING', details: { breaking: 23, additive: 0, informational: 13 } });
    expect((await rig.admin.lanes()).active).toBe('green');

    const back = await rig.wvo(['rollback', first.deployment.id]);
    expect(back.exitCode, back.stderr.slice(-2000) + back.stdout.slice(-2000)).toBe(0);
    expect((await rig.admin.lanes()).active).toBe('blue');

    const traffic = await load.stop();
    console.log(`[apps docker] requests sent ${traffic.sent}, failed ${traffic.failed}`);
    expect(traffic.sent).toBeGreaterThan(50);
    expect(traffic.sessionsAlive).toBe(8);
    expectNoFailedRequests(traffic);
  }, 300_000);
});
