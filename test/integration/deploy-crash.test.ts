import type { ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import type { DeploymentState } from '../../controller/src/promotion/index.js';
import { processesWithEnv } from '../../controller/src/runtime/local/process-table.js';
import { runWvo as wvo, type DeployRig } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const rigs = deployPerTest();
/** The test's spawned controller (`wvo promote|rollback`), killed after the test if still running. */
let child: ResultPromise | undefined;

async function startCrashRig(): Promise<DeployRig> {
  const rig = await rigs.rig({ drainTimeoutMs: 500 });
  rigs.defer(async () => {
    await rig.close();
    // A lane the runtime lost track of (the defect the canary test looks for) must not outlive the test.
    for (const pid of workersOn(rig.stateRoot)) process.kill(pid, 'SIGKILL');
  });
  rigs.defer(async () => {
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    await child?.catch(() => undefined);
    child = undefined;
  });
  return rig;
}

describe('deploy: kill -9 of the controller while observing; `wvo resume` finishes it; traffic never stops', () => {
  it.each([
    { policy: 'continue', outcome: 'promoted', serving: 'green' },
    { policy: 'rollback', outcome: 'rolled_back', serving: 'blue' },
  ] as const)('resume-observing=$policy → $outcome', async ({ policy, outcome, serving }) => {
    const rig = await startCrashRig();
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 30, writers: 2, intervalMs: 20, maxMs: 60_000 });

    // Gates are not what this test is about: on two busy cores a p95 check may fail; allow it.
    child = wvo(rig, ['promote', upgrade.id, '--observe', '3s', '--interval', '500ms', '--max-failed-checks', '20', '--resume-observing', policy, '--keep-warm', '0']);
    const deployment = await waitForDeployment(rig);
    await killWhen(rig, deployment.id, 'observing');

    // The controller is gone; the proxy and both lanes serve on.
    expect(rig.store.get(deployment.id).state).toBe('observing');
    expect((await rig.admin.lanes()).active).toBe('green');
    await sleep(700);
    expectNoFailedRequests(traffic);

    const resumed = await wvo(rig, ['resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const answer = JSON.parse(resumed.stdout) as { ok: boolean; deployment: { id: string; state: string; rollback: unknown } };
    expect(answer.deployment.state, JSON.stringify(answer.deployment.rollback)).toBe(outcome);
    expect(answer).toMatchObject({ ok: true, deployment: { id: deployment.id, state: outcome } });
    expect((await rig.admin.lanes()).active).toBe(serving);
    expect((await rig.runtime.getLane(serving === 'green' ? 'blue' : 'green'))?.status).toBe('stopped');
    const resumeRow = rig.store.transitions(deployment.id).find((t) => t.event === 'resume');
    expect(resumeRow?.reason).toMatch(policy === 'continue' ? /re-assert switch and flags/ : /resumeObserving=rollback/);

    await sleep(700);
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(30);
  });
});

/** SIGKILL the spawned controller once deployment `id` is in `state` (and `afterMs` into it); the record stays there. */
async function killWhen(r: DeployRig, id: string, state: DeploymentState, afterMs = 0): Promise<void> {
  await r.waitForState(id, [state], 40_000);
  if (afterMs > 0) await sleep(afterMs);
  child!.kill('SIGKILL');
  expect((await child!).signal).toBe('SIGKILL');
  child = undefined;
  expect(r.store.get(id).state).toBe(state);
}

async function waitForDeployment(r: DeployRig) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = r.store.list()[0];
    if (found) return found;
    if (Date.now() > deadline) throw new Error('the promote process created no deployment');
    await sleep(25);
  }
}

describe('deploy: kill -9 of the controller while it starts the canary; `wvo resume` rolls back; no lane is orphaned', () => {
  it('canary_live → rolled_back, blue serving, one worker process left on the live state', async () => {
    const rig = await startCrashRig();
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 10, writers: 1, intervalMs: 20, maxMs: 60_000 });

    child = wvo(rig, ['promote', upgrade.id, '--observe', '3s', '--interval', '500ms', '--keep-warm', '0']);
    const deployment = await waitForDeployment(rig);
    await killWhen(rig, deployment.id, 'canary_live', 150); // inside the canary's start: spawned, not yet ready

    const resumed = await wvo(rig, ['resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const answer = JSON.parse(resumed.stdout) as { deployment: { id: string; state: string } };
    expect(answer.deployment).toMatchObject({ id: deployment.id, state: 'rolled_back' });
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('green'))?.status ?? 'gone').not.toMatch(/ready|starting|unhealthy/);
    // Whatever the kill interrupted, no worker but blue still runs on the live state.
    await sleep(300);
    expect(workersOn(rig.stateRoot)).toEqual([Number((await rig.runtime.getLane('blue'))!.id)]);

    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(10);
  });
});

describe('deploy: `wvo resume` of a deployment whose controller is alive is refused (lease)', () => {
  it('WVO_DEPLOYMENT_OWNED names the live promote process and changes nothing; `wvo rollback` takes the lease over', async () => {
    const rig = await startCrashRig();
    const upgrade = rig.stage();
    // A long observe window: the promote is certainly alive while resume is tried.
    child = wvo(rig, ['promote', upgrade.id, '--observe', '2m', '--interval', '500ms', '--max-failed-checks', '1000', '--keep-warm', '0']);
    const deployment = await waitForDeployment(rig);
    await rig.waitForState(deployment.id, ['observing'], 40_000);

    const status = await wvo(rig, ['status']);
    expect(JSON.parse(status.stdout).deployment.driver).toMatchObject({ pid: child.pid });
    const before = rig.store.get(deployment.id);
    const refused = await wvo(rig, ['resume']);
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'WVO_DEPLOYMENT_OWNED', details: { pid: child.pid } });
    expect(rig.store.transitions(deployment.id).map((t) => t.event)).not.toContain('resume');
    expect(rig.store.get(deployment.id).state).toBe('observing');
    expect(rig.store.lease(deployment.id)?.pid).toBe(child.pid);
    expect(before.state).toBe('observing');

    // An operator's rollback outranks the live driver: it takes the lease, the promote steps aside.
    const rolled = await wvo(rig, ['rollback', deployment.id]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout).deployment).toMatchObject({ id: deployment.id, state: 'rolled_back' });
    const promote = await child;
    child = undefined;
    expect(promote.exitCode).toBe(1); // rolled back
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect(rig.store.lease(deployment.id)).toBeUndefined(); // released by the rollback
  });
});

/** Pids of live worker processes on `stateRoot` (this user's, from /proc). */
function workersOn(stateRoot: string): number[] {
  return processesWithEnv('WVO_STATE_ROOT', stateRoot);
}

describe('deploy: kill -9 of `wvo rollback` while it restarts the kept lane; `wvo resume` finishes the rollback', () => {
  it('rolling_back → rolled_back, blue serving, green stopped, 0 failed requests', async () => {
    const rig = await startCrashRig();
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 10, writers: 1, intervalMs: 20, maxMs: 60_000 });
    const promoted = await rig.deploy.operations.promote({ upgradeId: upgrade.id, observeMs: '1s', intervalMs: '500ms', maxFailedChecks: 20, retentionMs: '1h', keepWarmMs: 0 });
    expect(promoted.state).toBe('promoted');
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');

    child = wvo(rig, ['rollback', promoted.id]);
    await killWhen(rig, promoted.id, 'rolling_back', 150); // inside the restart of blue

    const resumed = await wvo(rig, ['resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).deployment).toMatchObject({ id: promoted.id, state: 'rolled_back' });
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('green'))?.status).toBe('stopped');
    await sleep(300);
    expect(workersOn(rig.stateRoot)).toEqual([Number((await rig.runtime.getLane('blue'))!.id)]);

    await sleep(700);
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(10);
  });
});
