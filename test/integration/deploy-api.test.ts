import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startController } from '../../controller/src/api/index.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { wireDeploy } from '../../controller/src/operations/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { openEvents } from '../helpers/api-rig.js';
import { WORKER_TOKEN } from '../helpers/deploy-rig.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const TOKEN = 'deploy-api-token-0123456789';
const rigs = deployPerTest();

async function get(url: string) {
  const response = await request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.statusCode, json: (await response.body.json()) as any };
}

async function post(url: string, body: unknown) {
  const response = await request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, json: (await response.body.json()) as any };
}

describe('deploy: the controller API promotes and rolls back through the same operations', () => {
  it('POST /deployments/:id/promote (202, driven in the background) then /rollback (200), 0 failed requests', async () => {
    const r = await rigs.rig();
    const config = parseConfig({ runtime: 'local', stateRoot: './state' });
    const controller = await startController(
      { listen: '127.0.0.1:0', token: TOKEN, deploymentPollMs: 100 },
      {
        projectRoot: r.root,
        stateRoot: r.stateRoot,
        runtime: r.runtime,
        images: localImageStore(r.root),
        promotion: (store) =>
          wireDeploy({ config, projectRoot: r.root, stateRoot: r.stateRoot, runtime: r.runtime, proxy: r.admin, store, env: { WVO_ADMIN_TOKEN: WORKER_TOKEN } })
            .operations.promotionFunctions(),
      },
    );
    rigs.defer(() => controller.close());
    const traffic = await rigs.traffic(r.proxy.url, { sessions: 20, intervalMs: 20, maxMs: 40_000 });

    const missing = await post(`${controller.url}/deployments/nope/promote`, { observeMs: '1s' });
    expect(missing.json.error.code, JSON.stringify(missing.json)).toBe('WVO_NO_STAGED_UPGRADE');

    const events = await openEvents(controller.url, TOKEN);
    const upgrade = r.stage();
    const accepted = await post(`${controller.url}/deployments/${upgrade.id}/promote`, { observeMs: '1s', intervalMs: '500ms', flags: 'PROMPT_MODE', maxFailedChecks: 20, keepWarmMs: 0 });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(202);
    expect(accepted.json.deployment.settling).toBe(true);
    const id = accepted.json.deployment.id as string;
    expect((await r.waitForState(id, ['promoted', 'rolled_back'])).state).toBe('promoted');
    // `promoted` is committed before blue is stopped (write-ahead): `settling` says when that is done.
    await events.until((frames) => frames.some((f) => f.event === 'deployment-settled' && f.data.id === id));
    await events.close();
    expect(events.frames.find((f) => f.event === 'deployment-settled')?.data).toMatchObject({ id, state: 'promoted' });
    const settled = await get(`${controller.url}/deployments/${id}`);
    expect(settled.json.deployment).toMatchObject({ state: 'promoted', settling: false });
    expect((await r.runtime.getLane('blue'))?.status).toBe('stopped');
    expect((await r.admin.lanes()).active).toBe('green');

    const rolled = await post(`${controller.url}/deployments/${id}/rollback`, { reason: 'api test' });
    expect(rolled.status).toBe(200);
    expect(rolled.json.deployment).toMatchObject({ id, state: 'rolled_back' });
    expect((await r.admin.lanes()).active).toBe('blue');

    await traffic.stop();
    expectNoFailedRequests(traffic);
  });
});
