import { describe, expect, it } from 'vitest';
import { runWvo, timedRollback } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const rigs = deployPerTest();

/** Traffic, not gates, is under test: on two busy cores a p95 check may fail now and then. */
const OBSERVE = { observeMs: '1500ms', intervalMs: '500ms', maxFailedChecks: 20, retentionMs: '1h' };

describe('deploy: --keep-warm keeps the old lane running after promotion (real proxy, real lanes)', () => {
  it('a rollback inside the window is a switch to the same running process; 0 failed requests', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 30, writers: 2, intervalMs: 20, maxMs: 45_000 });
    const bluePid = (await rig.runtime.getLane('blue'))!.id;

    const { deployment, done } = await rig.deploy.operations.begin({ upgradeId: upgrade.id, ...OBSERVE, keepWarmMs: '30s' });
    const promoted = await rig.waitForState(deployment.id, ['promoted'], 40_000);
    expect(promoted.warmUntil).toBe(promoted.promotedAt! + 30_000);
    expect((await rig.admin.lanes()).active).toBe('green');
    const blue = await rig.runtime.getLane('blue');
    expect(blue).toMatchObject({ status: 'ready', id: bluePid });

    const { record: rolled, trafficBackMs } = await timedRollback(rig, { reason: 'test: inside the keep-warm window' });
    expect(rolled).toMatchObject({ id: deployment.id, state: 'rolled_back', warmUntil: null });
    expect((await done).state).toBe('rolled_back'); // the promoter's wait ended with the rollback
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('blue'))?.id).toBe(bluePid); // never restarted

    await sleep(700);
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(30);
    console.log(`[deploy-keep-warm] rollback inside the window: traffic on blue after ${trafficBackMs ?? 'n/a'} ms; sent ${traffic.sent}`);
  });

  it('`wvo promote --keep-warm 6s` waits the window out, then stops the old lane; status says so meanwhile', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = rig.stage();
    const child = runWvo(rig, ['promote', upgrade.id, '--observe', '1500ms', '--interval', '500ms', '--max-failed-checks', '20', '--keep-warm', '6s']);
    const deployment = await (async () => {
      for (let i = 0; i < 1_600; i++) {
        const found = rig.store.list()[0];
        if (found?.state === 'promoted') return found;
        await sleep(25);
      }
      throw new Error('never promoted');
    })();
    expect((await rig.runtime.getLane('blue'))?.status).toBe('ready');
    const status = await runWvo(rig, ['status']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toMatch(/blue kept running \(instant rollback\) until/);

    const result = await child;
    expect(result.exitCode, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { deployment: { state: string; warmUntil: number | null } };
    expect(answer.deployment).toMatchObject({ state: 'promoted', warmUntil: null });
    expect(Date.now()).toBeGreaterThanOrEqual(deployment.warmUntil!);
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');
    expect(rig.store.transitions(deployment.id).map((t) => t.event)).toContain('warm_elapsed');
  });

  it('refuses --keep-warm longer than --retention (exit 2, names the option, nothing starts)', async () => {
    const rig = await rigs.rig();
    const upgrade = rig.stage();
    const refused = await runWvo(rig, ['promote', upgrade.id, '--keep-warm', '2h', '--retention', '1h']);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { code: 'WVO_INVALID_PROMOTION_OPTION', subject: 'keepWarmMs' } });
    expect(rig.store.list()).toEqual([]);
    expect((await rig.runtime.listLanes()).map((l) => l.name)).toEqual(['blue']);
  });
});
