import { existsSync } from 'node:fs';
import { execa } from 'execa';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FleetStore, type FleetRecord } from '../../controller/src/fleet/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { WVO_MAIN, runWvoCli } from '../helpers/cli.js';
import { buildRepoWorkerImage } from '../helpers/deploy-rig.js';
import { describeDocker, dockerIsUp } from '../helpers/docker.js';
import { startFleetRig, type FleetRig } from '../helpers/fleet-rig.js';
import { startTraffic, type Traffic } from '../helpers/mcp-traffic.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';
import { startEngineB, type EngineB } from '../helpers/runtime-engine-b.js';
import { removeImageTag, testId } from '../helpers/runtime-fixtures.js';
import { sleep } from '../helpers/sleep.js';

/**
 * Fleet promotions on two real engines: deployment `east` on the host engine, `west` on a second
 * engine in a network namespace (reached over tcp, lanes on host networking there). Each has its
 * own proxy, live state and controller.db; the fleet controller rolls one upgrade across them in
 * waves through each deployment's own promotion, under MCP SDK load on both proxies.
 */
const docker = new Docker();
const project = testId('fleet');
const image = `wvo-worker:${project}`;
const candidate = `wvo-worker:${project}-v2`;
let engine: EngineB | undefined;
const defer = cleanupAfterEach();

// Keep-warm 0: these tests are about waves, and the default 30 s window would be waited out per deployment.
const promotion = { observeMs: '2s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: '0' };

async function rig(waves?: Record<string, unknown>): Promise<FleetRig> {
  const fleet = await startFleetRig({ id: `${project}-${Math.random().toString(16).slice(2, 6)}`, docker, engine: engine!, image, ...(waves ? { waves } : {}) });
  defer(() => fleet.close());
  return fleet;
}

async function trafficOn(fleet: FleetRig): Promise<Traffic[]> {
  const all = await Promise.all(fleet.members.map((m) => startTraffic(m.proxy.url, { sessions: 8, writers: 1, intervalMs: 25, maxMs: 180_000 })));
  for (const t of all) defer(() => t.close());
  return all;
}

async function expectQuiet(traffic: Traffic[]): Promise<void> {
  await sleep(500);
  for (const t of traffic) {
    await t.stop();
    expectNoFailedRequests(t);
    expect(t.sent).toBeGreaterThan(50);
  }
}

/** On the second engine the candidate tag is an image that cannot start (as a node holding a bad image would). */
async function breakCandidateOnEngineB(): Promise<void> {
  await execa('docker', ['build', '-q', '-t', candidate, '-'], {
    input: `FROM ${image}\nENTRYPOINT ["node", "-e", "console.error('candidate broken on this host'); process.exit(3)"]\n`,
    env: { DOCKER_HOST: `unix://${engine!.socket}`, DOCKER_BUILDKIT: '0' },
  });
  defer(() => removeImageTag(engine!.docker, candidate));
}

const actives = (fleet: FleetRig) => Promise.all(fleet.members.map(async (m) => (await m.admin.lanes()).active));
const timings = (record: FleetRecord) => record.waves.map((w) => `wave ${w.index + 1} ${((w.finishedAt! - w.startedAt!) / 1000).toFixed(1)} s`).join(', ');

if (dockerIsUp) {
  beforeAll(async () => {
    [engine] = await Promise.all([startEngineB({ net: '10.216' }), buildRepoWorkerImage(docker, project)]);
    await docker.getImage(image).tag({ repo: 'wvo-worker', tag: `${project}-v2` });
  }, 300_000);

  afterAll(async () => {
    await engine?.destroy();
    await removeImageTag(docker, candidate);
    await removeImageTag(docker, image);
  }, 120_000);
}

describeDocker('fleet promotion across two engines', { timeout: 300_000 }, () => {
  it('promotes two deployments in two waves under SDK load with 0 failed requests; status --fleet shows the new version', async () => {
    const fleet = await rig();
    const upgradeId = fleet.stage(candidate);
    const traffic = await trafficOn(fleet);
    await sleep(300);
    const started = Date.now();
    const record = await fleet.control().runner.promote({ upgradeId, waveSize: 1, pause: '1s', promotion });
    const took = Date.now() - started;
    expect(record.state, JSON.stringify(record.members)).toBe('promoted');
    expect(record.members.map((m) => [m.name, m.wave, m.state])).toEqual([['east', 0, 'promoted'], ['west', 1, 'promoted']]);
    // Two waves, one after the other, the pause between them.
    expect(record.waves[1]!.startedAt! - record.waves[0]!.finishedAt!).toBeGreaterThanOrEqual(1000);
    expect(await actives(fleet)).toEqual(['green', 'green']);
    // Each deployment's own controller.db holds its promotion; west's green runs on the second engine.
    expect((await fleet.members[1]!.runtime.getLane('green'))?.host).toBe('hostb');
    await expectQuiet(traffic);
    console.log(`[fleet] 2 deployments in 2 waves: ${timings(record)}, whole ${(took / 1000).toFixed(1)} s, sent ${traffic.map((t) => t.sent).join('+')}`);

    const status = await runWvoCli(['status', '--fleet', '--json', '--config', fleet.configFile], { cwd: fleet.root });
    expect(status.code, status.stderr).toBe(0);
    const shown = JSON.parse(status.stdout) as { fleet: { id: string; state: string }; deployments: Array<{ name: string; where: string; state: string; serving: { lane: string; image: string } }> };
    expect(shown.fleet).toMatchObject({ id: record.id, state: 'promoted' });
    expect(shown.deployments.map((d) => [d.name, d.where, d.serving.lane, d.serving.image, d.state])).toEqual([
      ['east', 'host local', 'green', candidate, 'promoted'],
      ['west', 'host hostb', 'green', candidate, 'promoted'],
    ]);
  });

  it('bad input is refused before anything starts; a controller killed between progressive waves is resumed by `wvo resume --fleet` with the persisted windows', async () => {
    const fleet = await rig({ size: 1, pause: '6s' });
    const upgradeId = fleet.stage(candidate);
    for (const [flags, subject] of [
      [['--wave-size', '0'], 'waveSize'],
      [['--waves', '1,2,2'], 'waves'], // sizes past the fleet's 2 deployments
      [['--waves', '1,0%'], 'waves'],
      [['--waves', '1,rest', '--wave-size', '1'], 'waves'],
      [['--wave-observe', '3s,never'], 'waveObserve'],
    ] as const) {
      const refused = await runWvoCli(['promote', upgradeId, '--fleet', ...flags, '--json', '--config', fleet.configFile], { cwd: fleet.root });
      expect(refused.code, flags.join(' ')).toBe(2);
      expect(JSON.parse(refused.stdout).error, flags.join(' ')).toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject });
    }
    const store = FleetStore.open(fleet.stateRoot);
    defer(() => store.close());
    expect(store.list()).toEqual([]);
    expect(await fleet.members[0]!.runtime.getLane('green')).toBeUndefined();

    const traffic = await trafficOn(fleet);
    // --waves overrides config fleet.waves.size; the first wave observed longer than the rest.
    const controller = execa(process.execPath, [WVO_MAIN, 'promote', upgradeId, '--fleet', '--waves', '1,rest', '--wave-observe', '4s,2s', '--observe', '10m', '--interval', '500ms', '--max-failed-checks', '20', '--keep-warm', '0', '--json', '--config', fleet.configFile], {
      cwd: fleet.root,
      env: { WVO_LOG_LEVEL: 'warn', WVO_LOG_PRETTY: '0' },
      reject: false,
    });
    defer(() => controller.kill('SIGKILL'));
    const deadline = Date.now() + 120_000;
    let mid: FleetRecord | undefined;
    while (Date.now() < deadline && controller.exitCode === null) {
      mid = store.running();
      if (mid?.members[0]?.state === 'promoted') break;
      await sleep(100);
    }
    expect(mid?.members.map((m) => m.state), JSON.stringify(mid)).toEqual(['promoted', 'pending']);
    expect(mid?.waves.map((w) => [w.size, w.observeMs])).toEqual([[1, 4000], [1, 2000]]);
    expect(mid?.waveSpec).toBe('1,rest');
    controller.kill('SIGKILL'); // between waves: east promoted, the pause running, west not begun
    await controller;
    expect(store.running()?.id).toBe(mid!.id);
    expect(await actives(fleet)).toEqual(['green', 'blue']);

    const resumed = await runWvoCli(['resume', '--fleet', '--json', '--config', fleet.configFile], { cwd: fleet.root });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const record = JSON.parse(resumed.stdout).fleet as FleetRecord;
    expect(record).toMatchObject({ id: mid!.id, state: 'promoted' });
    expect(record.members.map((m) => m.state)).toEqual(['promoted', 'promoted']);
    // The persisted pause held across the crash: west began no earlier than 6 s after east's wave ended.
    expect(record.waves[1]!.startedAt! - record.waves[0]!.finishedAt!).toBeGreaterThanOrEqual(6000);
    expect(await actives(fleet)).toEqual(['green', 'green']);
    // Each deployment's own promotion observed its wave's window (west's begun by the resumed controller).
    const observed = record.members.map((m, i) => {
      const own = DeploymentStore.open(fleet.members[i]!.state);
      try {
        return own.get(m.deploymentId!).plan.observeMs;
      } finally {
        own.close();
      }
    });
    expect(observed).toEqual([4000, 2000]);
    const shown = await runWvoCli(['status', '--fleet', '--config', fleet.configFile], { cwd: fleet.root });
    expect(shown.stdout).toContain('wave 1 (1 deployment, observe 4s): east');
    expect(shown.stdout).toContain('wave 2 (1 deployment, observe 2s): west');
    await expectQuiet(traffic);
    console.log(`[fleet] progressive waves 1,rest observed 4s,2s, killed between waves, resumed: ${timings(record)}`);
  });

  it('a candidate that fails on the second host: that deployment rolls back, and policy rollback rolls the first one back too', async () => {
    const fleet = await rig();
    await breakCandidateOnEngineB();
    const upgradeId = fleet.stage(candidate);
    const traffic = await trafficOn(fleet);
    const record = await fleet.control().runner.promote({ upgradeId, waveSize: 1, onFailure: 'rollback', promotion });
    expect(record.state).toBe('rolled_back');
    expect(record.members.map((m) => [m.name, m.state])).toEqual([['east', 'reverted'], ['west', 'rolled_back']]);
    expect(record.members[1]!.reason).toMatch(/exited|WVO_LANE_EXITED|broken/);
    expect(record.reason).toContain('west');
    expect(await actives(fleet)).toEqual(['blue', 'blue']);
    await expectQuiet(traffic);
    console.log(`[fleet] failure on the second host → rolled back by policy: ${record.members.map((m) => `${m.name} ${m.state}`).join(', ')}`);
  });

  it('per-deployment shadow: east runs its own shadow on its host and is promoted on that run; west, whose candidate cannot start there, fails before any of its traffic moves', async () => {
    const fleet = await rig();
    await breakCandidateOnEngineB();
    const upgradeId = fleet.stage(candidate);
    const started = Date.now();
    const record = await fleet.control().runner.promote({ upgradeId, waveSize: 1, shadow: 'per-deployment', promotion: { ...promotion, allowContract: true } });
    expect(record.shadow).toBe('per-deployment');
    expect(record.members.map((m) => [m.name, m.state])).toEqual([['east', 'promoted'], ['west', 'failed']]);
    expect(record.state).toBe('failed');
    const [east, west] = record.members;
    // east: its own run (not the staged one) recorded in its controller.db, clean, and what its promotion gated on.
    expect(east!.shadow).toMatchObject({ count: 0, outcome: expect.stringMatching(/^(passed|warnings)$/) });
    expect(existsSync(east!.shadow!.shadowJson!)).toBe(true);
    expect(east!.upgradeId).toBe(east!.shadow!.runId);
    const eastStore = DeploymentStore.open(fleet.members[0]!.state);
    defer(() => eastStore.close());
    expect(eastStore.find(east!.deploymentId!)?.upgradeId).toBe(east!.shadow!.runId);
    expect(eastStore.getUpgrade(east!.shadow!.runId).steps.map((s) => s.name)).toContain('shadow');
    // west: failed on its own shadow, never begun: no deployment, no green lane on hostb, blue still serves.
    expect(west!.reason).toContain('WVO_FLEET_SHADOW_FAILED');
    expect(west!.shadow?.outcome).toBe('failed');
    expect(west!.deploymentId).toBeNull();
    expect((await fleet.members[1]!.runtime.listLanes()).map((l) => l.name)).toEqual(['blue']);
    expect(await actives(fleet)).toEqual(['green', 'blue']);
    console.log(`[fleet] per-deployment shadow: ${record.members.map((m) => `${m.name} ${m.state}`).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
