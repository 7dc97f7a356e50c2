import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timedRollback } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const rigs = deployPerTest();

/** These tests are about traffic, not gates: on two busy cores a p95 check may fail now and then. */
const LENIENT = { maxFailedChecks: 20 };
const OBSERVE = { observeMs: '2s', intervalMs: '500ms', ...LENIENT };

describe('deploy: promote and roll back under load (real proxy, real lanes, 60 SDK sessions)', () => {
  it('rolls back in the middle of observing with 0 failed requests; every session answers after the drain deadline', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 60, writers: 4, intervalMs: 20, maxMs: 45_000 });
    await sleep(300);

    const { deployment, done } = await rig.deploy.operations.begin({ upgradeId: upgrade.id, ...OBSERVE });
    await rig.waitForState(deployment.id, ['observing']);
    expect((await rig.admin.lanes()).active).toBe('green');
    await sleep(900); // past blue's drain deadline: the sessions opened on blue moved to green

    const rollbackStarted = performance.now();
    const rolled = await rig.deploy.operations.rollback({ id: deployment.id, reason: 'test: rollback in the middle' });
    const rollbackMs = performance.now() - rollbackStarted;
    expect(rolled.state).toBe('rolled_back');
    expect((await done).state).toBe('rolled_back');
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('green'))?.status).toBe('stopped');

    await sleep(800); // past every drain deadline
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(traffic.sent).toBeGreaterThan(500);
    expect(await traffic.probeAll()).toBe(60);

    const plan = JSON.parse(readFileSync(join(rig.root, 'experiments/mcp/upgrade', upgrade.id, 'promotion_plan.json'), 'utf8'));
    expect(plan.outcome).toBe('rolled_back');
    expect(plan.transitions.map((t: { to: string }) => t.to)).toEqual(['canary_live', 'switched', 'observing', 'rolling_back', 'rolled_back']);
    const manager = JSON.parse(readFileSync(join(rig.stateRoot, 'analytics/worker_manager.json'), 'utf8'));
    expect(manager.active_lane).toBe('blue');
    const [forward, back] = rig.deploy.runner.switches;
    expect(forward).toMatchObject({ from: 'blue', to: 'green', rollback: false });
    expect(back).toMatchObject({ from: 'green', to: 'blue', rollback: true });
    console.log(
      `[deploy-load] sent ${traffic.sent}, failed ${traffic.failed}, sessions answering ${60}/60; ` +
        `switch ${forward!.took_ms} ms, switch back ${back!.took_ms} ms, rollback (whole) ${Math.round(rollbackMs)} ms`,
    );
  });

  it('promotes under load, then rolls back after promotion (the kept lane restarts) with 0 failed requests', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 50, writers: 2, intervalMs: 20, maxMs: 45_000 });
    await sleep(300);

    const promoted = await rig.deploy.operations.promote({ upgradeId: upgrade.id, observeMs: '1500ms', intervalMs: '500ms', retentionMs: '1h', keepWarmMs: 0, ...LENIENT });
    expect(promoted.state).toBe('promoted');
    expect((await rig.admin.lanes()).active).toBe('green');
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');
    expect(existsSync(join(rig.root, 'experiments/mcp/upgrade', upgrade.id, 'promotion_plan.json'))).toBe(true);

    const { record: rolled, wholeMs, trafficBackMs } = await timedRollback(rig, { reason: 'test: rollback after promotion' });
    expect(rolled).toMatchObject({ id: promoted.id, state: 'rolled_back' });
    expect((await rig.admin.lanes()).active).toBe('blue');

    await sleep(800);
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(50);
    console.log(
      `[deploy-load] rollback after promotion: traffic on blue after ${trafficBackMs ?? 'n/a'} ms; whole command (restart blue, switch, stop green) ${wholeMs} ms; sent ${traffic.sent}`,
    );
  });
});
