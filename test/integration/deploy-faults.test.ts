import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import { isWvoError } from '../../common/src/errors.js';
import { DeployOperations, type LiveEffectRunner } from '../../controller/src/operations/index.js';
import type { EffectRunner } from '../../controller/src/promotion/index.js';
import { WORKER_TOKEN, runWvo, type DeployRig } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const rigs = deployPerTest();

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWvoError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a coded error');
}

/** The runner's methods as a plain object, so a test can wrap one of them. */
function delegate(runner: LiveEffectRunner): EffectRunner {
  return {
    startCanary: (e, d) => runner.startCanary(e, d),
    startLane: (e, d) => runner.startLane(e, d),
    switchProxy: (e, d) => runner.switchProxy(e, d),
    setWeights: (e, d) => runner.setWeights(e, d),
    flipFlag: (e, d) => runner.flipFlag(e, d),
    revertFlag: (e, d) => runner.revertFlag(e, d),
    stopLane: (e, d) => runner.stopLane(e, d),
    removeLane: (e, d) => runner.removeLane(e, d),
    readMetrics: (d) => runner.readMetrics(d),
    writePlan: (d, t) => runner.writePlan(d, t),
    writeWorkerManager: (d, t) => runner.writeWorkerManager(d, t),
  };
}

/**
 * A promotion through `runner` (a wrapped LiveEffectRunner) under `sessions` MCP sessions: a busy
 * lane's stall is the fault, not a gate, so up to 20 failed checks are allowed. `settled` is
 * awaited before the traffic stops (the fault's own clean-up).
 */
async function promoteThroughFault(rig: DeployRig, runner: EffectRunner, settled: () => Promise<unknown> = async () => undefined) {
  const operations = new DeployOperations({ store: rig.store, runner, proxy: rig.admin, runtime: rig.runtime, clock: systemClock, workerToken: WORKER_TOKEN });
  const traffic = await rigs.traffic(rig.proxy.url, { sessions: 10, intervalMs: 20, maxMs: 30_000 });
  const upgrade = rig.stage();
  const record = await operations.promote({ upgradeId: upgrade.id, observeMs: '1s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: 0 });
  await settled();
  await traffic.stop();
  expect(record.state, JSON.stringify(record.rollback)).toBe('promoted');
  expect((await rig.admin.lanes()).active).toBe('green');
  expectNoFailedRequests(traffic);
}

describe('deploy: refusals change nothing', () => {
  it('promote with no staged upgrade: WVO_NO_STAGED_UPGRADE (CLI, --json, exit 1), no deployment, no lane', async () => {
    const rig = await rigs.rig();
    const cli = await runWvo(rig, ['promote', '--observe', '2s']);
    expect(cli.exitCode, cli.stderr).toBe(1);
    expect(JSON.parse(cli.stdout).error.code).toBe('WVO_NO_STAGED_UPGRADE');
    expect(await codeOf(rig.deploy.operations.promote({ upgradeId: 'nope' }))).toBe('WVO_NO_STAGED_UPGRADE');
    expect(rig.store.list()).toEqual([]);
    expect((await rig.runtime.listLanes()).map((l) => l.name)).toEqual(['blue']);
  });

  it('refuses untested, contract-migrating and wrongly-based upgrades before anything starts', async () => {
    const rig = await rigs.rig();
    const skipped = rig.stage({ steps: [{ name: 'test', status: 'skipped' }, { name: 'schema-compat', status: 'ok' }] });
    expect(await codeOf(rig.deploy.operations.promote({ upgradeId: skipped.id }))).toBe('WVO_TESTS_SKIPPED');
    const contract = rig.stage({ steps: [{ name: 'test', status: 'ok' }, { name: 'schema-compat', status: 'warning' }] });
    expect(await codeOf(rig.deploy.operations.promote({ upgradeId: contract.id }))).toBe('WVO_CONTRACT_MIGRATION');
    const elsewhere = rig.stage({ baseline: { lane: 'green', image: 'x' }, candidate: { lane: 'blue', image: 'y' } });
    expect(await codeOf(rig.deploy.operations.promote({ upgradeId: elsewhere.id }))).toBe('WVO_DEPLOY_BASELINE_NOT_ACTIVE');
    const flags = rig.stage();
    const noToken = new DeployOperations({ store: rig.store, runner: rig.deploy.runner, proxy: rig.admin, runtime: rig.runtime, clock: systemClock });
    expect(await codeOf(noToken.promote({ upgradeId: flags.id, flags: 'PROMPT_MODE' }))).toBe('WVO_DEPLOY_WORKER_TOKEN_MISSING');
    // Bad canary steps and probes: coded, naming the field, exit 2 from the CLI; nothing starts.
    const steps = await runWvo(rig, ['promote', flags.id, '--steps', '50,10']);
    expect(steps.exitCode, steps.stderr).toBe(2);
    expect(JSON.parse(steps.stdout).error).toMatchObject({ code: 'WVO_PROMOTION_STEPS_INVALID', subject: 'steps[1]' });
    const probes = join(rig.root, 'probes.json');
    writeFileSync(probes, JSON.stringify([{ name: 'q', tool: 'orchestrator_status', expect: [{ path: 'queue' }] }]));
    const badProbe = await runWvo(rig, ['promote', flags.id, '--probes', probes]);
    expect(badProbe.exitCode, badProbe.stderr).toBe(2);
    expect(JSON.parse(badProbe.stdout).error).toMatchObject({ code: 'WVO_PROBE_INVALID', subject: 'probes[0].expect[0].path' });
    expect(await codeOf(rig.deploy.operations.promote({ upgradeId: flags.id, steps: [10, 150] }))).toBe('WVO_PROMOTION_STEPS_INVALID');
    expect(rig.store.list()).toEqual([]);
    expect((await rig.admin.lanes())).toMatchObject({ active: 'blue', canary: null });
  });

  it('two promotions at once: the second is WVO_PROMOTION_IN_PROGRESS and changes nothing', async () => {
    const rig = await rigs.rig();
    const first = rig.stage();
    const second = rig.stage();
    const begun = await rig.deploy.operations.begin({ upgradeId: first.id, observeMs: '30s', intervalMs: '1s' });
    expect(await codeOf(rig.deploy.operations.begin({ upgradeId: second.id, observeMs: '2s' }))).toBe('WVO_PROMOTION_IN_PROGRESS');
    const cli = await runWvo(rig, ['promote', second.id, '--observe', '2s']);
    expect(cli.stdout, `exit ${cli.exitCode}; stderr: ${cli.stderr}`).not.toBe('');
    expect(JSON.parse(cli.stdout).error.code).toBe('WVO_PROMOTION_IN_PROGRESS');
    expect(rig.store.list().map((d) => d.id)).toEqual([begun.deployment.id]);
    await rig.waitForState(begun.deployment.id, ['observing']);
    expect((await rig.deploy.operations.rollback({ id: begun.deployment.id })).state).toBe('rolled_back');
    expect((await begun.done).state).toBe('rolled_back');
  });
});

describe('deploy: switch to an unhealthy lane', () => {
  it('the proxy refuses a switch to a lane that does not answer; traffic stays on blue', async () => {
    const rig = await rigs.rig();
    await rig.admin.registerLane({ name: 'dead', url: 'http://127.0.0.1:9' });
    await sleep(300); // a few health checks
    // The effect as the reconciler issues it (only id and state are read by switchProxy).
    const deployment = { id: 'dep-x', state: 'switched' } as Parameters<EffectRunner['switchProxy']>[1];
    expect(await codeOf(rig.deploy.runner.switchProxy({ kind: 'switch_proxy', to: 'dead', from: 'blue' }, deployment))).toBe(
      'WVO_PROXY_LANE_UNHEALTHY',
    );
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect(rig.deploy.runner.switches).toEqual([]);
  });

  it('a candidate that stalls for 4 s right before the switch (its first two readiness probes time out) is still promoted', async () => {
    const rig = await rigs.rig();
    const { runtime } = rig;
    const runner = delegate(rig.deploy.runner);
    let resumed: Promise<void> | undefined;
    runner.switchProxy = async (effect, deployment) => {
      if (!resumed) {
        // A busy machine, not a dead lane: the process answers nothing for 4 s, then serves on.
        // The switch gate waits longer after each silent probe (1 s, then 3 s), so it sees it recover.
        const pid = Number((await runtime.getLane(effect.to))!.id);
        process.kill(pid, 'SIGSTOP');
        resumed = sleep(4000).then(() => void process.kill(pid, 'SIGCONT'));
      }
      await rig.deploy.runner.switchProxy(effect, deployment);
    };
    await promoteThroughFault(rig, runner, () => resumed ?? Promise.resolve());
  });

  it('a switch the proxy refuses because its last health check failed waits for the proxy to see the lane healthy, then switches: promoted', async () => {
    const rig = await rigs.rig();
    const runner = delegate(rig.deploy.runner);
    let restored: Promise<unknown> | undefined;
    const proxyView = async (lane: string) => (await rig.admin.lanes()).lanes.find((l) => l.name === lane);
    runner.switchProxy = async (effect, deployment) => {
      if (!restored) {
        // The proxy checks a path the lane does not serve, so it sees the lane unhealthy while the
        // lane's own /readyz and MCP answer (one proxy check timing out on a busy machine looks so).
        const { url } = (await proxyView(effect.to))!;
        await rig.admin.registerLane({ name: effect.to, url, health: '/no-such-path' });
        for (let i = 0; i < 100 && (await proxyView(effect.to))?.healthy !== false; i++) await sleep(50);
        expect((await proxyView(effect.to))?.healthy).toBe(false);
        restored = sleep(600).then(() => rig.admin.registerLane({ name: effect.to, url, health: '/readyz' }));
      }
      await rig.deploy.runner.switchProxy(effect, deployment);
    };
    await promoteThroughFault(rig, runner, () => restored ?? Promise.resolve());
  });

  it('a rollback reuses the warm blue although its listing probe times out (busy): the same process takes the traffic back', async () => {
    const rig = await rigs.rig();
    const runner = delegate(rig.deploy.runner);
    let frozen: Promise<void> | undefined;
    runner.startLane = async (effect, deployment) => {
      const kept = await rig.runtime.getLane(effect.lane);
      if (kept && !frozen) {
        // Busy for 1.5 s: the listing's 500 ms probe calls it unhealthy; it is not dead.
        const pid = Number(kept.id);
        process.kill(pid, 'SIGSTOP');
        frozen = sleep(1500).then(() => void process.kill(pid, 'SIGCONT'));
      }
      await rig.deploy.runner.startLane(effect, deployment);
    };
    const operations = new DeployOperations({ store: rig.store, runner, proxy: rig.admin, runtime: rig.runtime, clock: systemClock, workerToken: WORKER_TOKEN });
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 10, intervalMs: 20, maxMs: 40_000 });
    const bluePid = (await rig.runtime.getLane('blue'))!.id;
    const upgrade = rig.stage();
    const { deployment, done } = await operations.begin({ upgradeId: upgrade.id, observeMs: '1s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: '30s', retentionMs: '1h' });
    await rig.waitForState(deployment.id, ['promoted'], 40_000);
    const rolled = await operations.rollback({ id: deployment.id, reason: 'test: blue busy while the rollback starts it' });
    await done;
    await frozen;
    await traffic.stop();
    expect(frozen).toBeDefined();
    expect(rolled.state).toBe('rolled_back');
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('blue'))?.id).toBe(bluePid); // reused, never restarted
    expectNoFailedRequests(traffic);
  });

  it('a candidate that dies between ready and the switch: switch refused, rolled back, 0 failed requests', async () => {
    const rig = await rigs.rig();
    const { runtime } = rig;
    const runner = delegate(rig.deploy.runner);
    runner.startCanary = async (effect, deployment) => {
      await rig.deploy.runner.startCanary(effect, deployment);
      process.kill(Number((await runtime.getLane(effect.lane))!.id), 'SIGKILL'); // the lane dies
      await sleep(300); // the proxy's health check (100 ms) notices too
    };
    const operations = new DeployOperations({ store: rig.store, runner, proxy: rig.admin, runtime, clock: systemClock, workerToken: WORKER_TOKEN });
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 20, intervalMs: 20, maxMs: 30_000 });
    const upgrade = rig.stage();
    const record = await operations.promote({ upgradeId: upgrade.id, observeMs: '2s', intervalMs: '500ms', keepWarmMs: 0 });
    await traffic.stop();
    expect(record.state).toBe('rolled_back');
    expect(record.rollback).toMatchObject({ from: 'switched' });
    expect(record.rollback!.reason).toMatch(/switch_proxy failed: .*not (ready|healthy)/);
    expect((await rig.admin.lanes()).active).toBe('blue');
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(20);
  });
});
