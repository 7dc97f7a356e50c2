import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import { DeployOperations } from '../../controller/src/operations/index.js';
import { InMemoryRunner, upgradeSummary } from '../unit/promotion-fixtures.js';
import { http, openEvents, startApiRig, waitUntil, type ApiRig } from '../helpers/api-rig.js';

/**
 * Promote and rollback through the API with the operations `wvo serve` wires (DeployOperations
 * over the controller's store); the effects go to the in-memory runner (small real
 * lanes/proxy/flags). Transitions reach SSE clients through the controller.db watcher.
 */
let rig: ApiRig;
let runner: InMemoryRunner;

beforeEach(async () => {
  runner = new InMemoryRunner(systemClock);
  rig = await startApiRig(
    {},
    {
      promotion: (store) =>
        new DeployOperations({ store, runner, proxy: runner.proxy, runtime: runner.runtime, clock: systemClock }).promotionFunctions(),
    },
  );
  rig.controller.store.recordUpgrade(upgradeSummary({ id: 'up-1' }), Date.now());
});

afterEach(async () => {
  await rig?.close();
});

const FAST = { observeMs: '300ms', intervalMs: '100ms', keepWarmMs: 0 };

describe('promote and rollback over HTTP', () => {
  it('promote answers 202 at once; SSE streams every transition to promoted; rollback after promotion', async () => {
    const events = await openEvents(rig.url);
    try {
      const res = await http(rig.url, 'POST', '/deployments/up-1/promote', { body: FAST });
      expect(res.status).toBe(202);
      const id: string = res.body.deployment.id;
      expect(res.body.deployment).toMatchObject({ upgradeId: 'up-1', state: 'shadowed' });

      await events.until((f) => f.some((e) => e.event === 'deployment' && e.data.id === id && e.data.state === 'promoted'), 15_000);
      const seen = events.frames
        .filter((f) => f.event === 'deployment' && f.data.id === id)
        .flatMap((f) => f.data.transitions.map((t: { to: string }) => t.to));
      // Observing→observing transitions (gate results) may appear between; the path is in order.
      expect([...new Set(seen)]).toEqual(['canary_live', 'switched', 'observing', 'promoted']);
      expect(runner.active).toBe('green');

      const detail = await http(rig.url, 'GET', `/deployments/${id}`);
      expect(detail.body.deployment.state).toBe('promoted');
      expect(detail.body.transitions[0]).toMatchObject({ from: 'shadowed', to: 'canary_live', event: 'start' });

      const rollback = await http(rig.url, 'POST', `/deployments/${id}/rollback`, { body: { reason: 'operator says no' } });
      expect(rollback.status).toBe(200);
      expect(rollback.body.deployment).toMatchObject({ state: 'rolled_back', rollback: { from: 'promoted', reason: 'operator says no' } });
      expect(runner.active).toBe('blue');
      await events.until((f) => f.some((e) => e.event === 'deployment' && e.data.id === id && e.data.state === 'rolled_back'));

      const list = await http(rig.url, 'GET', '/deployments');
      expect(list.body.running).toBeNull();
      expect(list.body.deployments.map((d: { id: string; state: string }) => [d.id, d.state])).toEqual([[id, 'rolled_back']]);
      const metrics = await http(rig.url, 'GET', '/metrics');
      expect(metrics.body).toMatch(/wvo_controller_deployments\{state="rolled_back"\} 1/);
    } finally {
      await events.close();
    }
  });

  it('two promotions at once → 409 WVO_PROMOTION_IN_PROGRESS; unknown upgrade → 404; untested upgrade → 409', async () => {
    rig.controller.store.recordUpgrade(upgradeSummary({ id: 'up-2' }), Date.now());
    const first = await http(rig.url, 'POST', '/deployments/up-1/promote', { body: { observeMs: '2s', intervalMs: '200ms' } });
    expect(first.status).toBe(202);
    const second = await http(rig.url, 'POST', '/deployments/up-2/promote', { body: FAST });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('WVO_PROMOTION_IN_PROGRESS');

    const missing = await http(rig.url, 'POST', '/deployments/up-9/promote', { body: FAST });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('WVO_NO_STAGED_UPGRADE');

    const mismatch = await http(rig.url, 'POST', '/deployments/up-2/promote', { body: { upgradeId: 'up-1' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.subject).toBe('upgradeId');

    // Roll the running one back mid-flight: the API answers once it settled.
    const id: string = first.body.deployment.id;
    await waitUntil(async () => (await http(rig.url, 'GET', `/deployments/${id}`)).body.deployment.state === 'observing', 10_000);
    const rollback = await http(rig.url, 'POST', `/deployments/${id}/rollback`, { body: {} });
    expect(rollback.status).toBe(200);
    expect(rollback.body.deployment.state).toBe('rolled_back');
    expect(runner.active).toBe('blue');
  });

  it('a promote with a wrong token creates no deployment', async () => {
    const res = await http(rig.url, 'POST', '/deployments/up-1/promote', { token: 'wrong', body: FAST });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(rig.controller.store.list()).toEqual([]);
    expect(runner.calls).toEqual([]);
  });
});
