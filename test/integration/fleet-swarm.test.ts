import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { buildRepoWorkerImage } from '../helpers/deploy-rig.js';
import { describeDocker, dockerIsUp } from '../helpers/docker.js';
import { startFleetRig, swarmPlacement } from '../helpers/fleet-rig.js';
import { dispatchedInVolume } from '../helpers/live-state-probe.js';
import type { SwarmRuntime } from '../../controller/src/runtime/index.js';
import { startTraffic } from '../helpers/mcp-traffic.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';
import { startSwarmPair, type SwarmPair } from '../helpers/runtime-engine-b.js';
import { removeImageTag, testId } from '../helpers/runtime-fixtures.js';
import { sleep } from '../helpers/sleep.js';

/**
 * A fleet on a real two-node swarm (two namespace engines joined over a direct link; the host
 * engine never enters swarm mode): `east` on the manager node, `west` on the second node, each
 * placed by its node label, its lanes Swarm services with its live state in ONE volume on its
 * node (`<app>-live-state`, shared by blue and green). The fleet controller promotes both in two
 * waves through each deployment's own promotion, under MCP SDK load on both proxies.
 */
const docker = new Docker();
const project = testId('fleet-swarm');
const image = `wvo-worker:${project}`;
const candidate = `wvo-worker:${project}-v2`;
let pair: SwarmPair | undefined;
const defer = cleanupAfterEach();

if (dockerIsUp) {
  beforeAll(async () => {
    [pair] = await Promise.all([startSwarmPair({ net: '10.217' }), buildRepoWorkerImage(docker, project)]);
    await docker.getImage(image).tag({ repo: 'wvo-worker', tag: `${project}-v2` });
    console.log(`[fleet-swarm] two-node swarm ready in ${pair.setupMs} ms`);
  }, 300_000);

  afterAll(async () => {
    // Leaving the swarm and stopping both engines removes whatever a failed test left on them (services, volumes, networks).
    await pair?.destroy();
    await removeImageTag(docker, candidate);
    await removeImageTag(docker, image);
  }, 120_000);
}

describeDocker('fleet promotion on a two-node swarm', { timeout: 420_000 }, () => {
  it('west is placed on the second node by its label; two deployments (one per node) promoted in two waves under SDK load, 0 failed requests; green serves every write blue took', async () => {
    const p = pair!;
    const fleet = await startFleetRig({ id: `${project}-${Math.random().toString(16).slice(2, 6)}`, docker, placement: swarmPlacement(p), image, tasks: 1000 });
    defer(() => fleet.close());
    const [east, west] = fleet.members as [(typeof fleet.members)[0], (typeof fleet.members)[0]];
    const servicesOf = async (app: string) => (await p.manager.docker.listServices({ filters: { label: [`wvo.project=${app}`] } })).length;
    const on = async (engine: 'manager' | 'worker', app: string) => ({
      containers: (await p[engine].docker.listContainers({ filters: { label: [`wvo.project=${app}`, 'wvo.managed=1'] } })).length,
      volumes: (await p[engine].docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } })).Volumes.map((v) => v.Name),
    });

    // Placement by node label: west's blue is a service of the manager, its task and live state on the second node only.
    expect(await west.runtime.getLane('blue')).toMatchObject({ runtime: 'swarm', host: p.labels.worker, status: 'ready' });
    expect((await west.runtime.getLane('blue'))!.url).toMatch(new RegExp(`^http://${p.worker.address.replaceAll('.', '\\.')}:\\d+$`));
    expect([await on('worker', west.app), await on('manager', west.app)]).toEqual([
      { containers: 1, volumes: [`${west.app}-live-state`] },
      { containers: 0, volumes: [] },
    ]);
    expect(await east.runtime.getLane('blue')).toMatchObject({ host: p.labels.manager });

    const upgradeId = fleet.stage(candidate);
    const traffic = await Promise.all(fleet.members.map((m) => startTraffic(m.proxy.url, { sessions: 8, writers: 1, intervalMs: 25, maxMs: 360_000 })));
    for (const t of traffic) defer(() => t.close());
    await sleep(300);
    const started = Date.now();
    // Keep-warm 0: the waves are under test (the default 30 s window would be waited out per deployment).
    const record = await fleet.control().runner.promote({ upgradeId, waveSize: 1, pause: '1s', promotion: { observeMs: '2s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: '0' } });
    const took = Date.now() - started;
    expect(record.state, JSON.stringify(record.members)).toBe('promoted');
    expect(record.members.map((m) => [m.name, m.wave, m.state])).toEqual([['east', 0, 'promoted'], ['west', 1, 'promoted']]);
    expect(record.waves[1]!.startedAt! - record.waves[0]!.finishedAt!).toBeGreaterThanOrEqual(1000);
    expect(await Promise.all(fleet.members.map(async (m) => (await m.admin.lanes()).active))).toEqual(['green', 'green']);

    await sleep(500);
    for (const t of traffic) {
      await t.stop();
      expectNoFailedRequests(t);
      expect(t.sent).toBeGreaterThan(50);
    }
    // Each green runs on its deployment's node, on the same live state volume blue used: every
    // acknowledged write (blue's before and during the canary, green's after the switch) is in
    // that one database, read back from the volume on the node.
    for (const [index, member] of fleet.members.entries()) {
      const node = index === 0 ? { label: p.labels.manager, host: 'mgr' } : { label: p.labels.worker, host: 'wkr' };
      expect(await member.runtime.getLane('green'), member.name).toMatchObject({ host: node.label, image: candidate });
      expect(traffic[index]!.dispatched.length, member.name).toBeGreaterThan(0);
      const recorded = await dispatchedInVolume((member.runtime as SwarmRuntime).engines.host(node.host), `${member.app}-live-state`);
      expect(traffic[index]!.dispatched.filter((id) => !recorded.has(id)), `${member.name}: acknowledged dispatches missing from the live state`).toEqual([]);
    }
    expect((await on('worker', west.app)).volumes).toEqual([`${west.app}-live-state`]);
    expect((await on('manager', east.app)).volumes).toEqual([`${east.app}-live-state`]);
    console.log(
      `[fleet-swarm] 2 deployments in 2 waves on 2 swarm nodes: ${record.waves.map((w) => `wave ${w.index + 1} ${((w.finishedAt! - w.startedAt!) / 1000).toFixed(1)} s`).join(', ')}, whole ${(took / 1000).toFixed(1)} s, sent ${traffic.map((t) => t.sent).join('+')}, 0 failed`,
    );

    // Cleanup is part of the contract: services, containers and volumes of both deployments go.
    await fleet.close();
    for (const m of fleet.members) expect(await servicesOf(m.app)).toBe(0);
    expect([await on('manager', east.app), await on('worker', west.app)]).toEqual([
      { containers: 0, volumes: [] },
      { containers: 0, volumes: [] },
    ]);
  });
});
