import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerFleetRoutes } from '../../controller/src/api/fleet-routes.js';
import { errorBody, httpStatusFor } from '../../controller/src/api/http-errors.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { FleetControl, type FleetRecord } from '../../controller/src/fleet/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { SmallOrchestrator } from '../helpers/fleet-fakes.js';

/** The /fleets routes over a real FleetControl (controller.db in a temp dir) whose members are small in-memory orchestrators. */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function api(configured = true) {
  const root = mkdtempSync(join(tmpdir(), 'wvo-fleet-api-'));
  dirs.push(root);
  const stateRoot = join(root, 'state');
  const upgrades = DeploymentStore.open(stateRoot);
  upgrades.recordUpgrade({ id: 'up-1', outcome: 'passed', steps: ['test', 'schema-compat'].map((name) => ({ name, status: 'ok' })), baseline: { lane: 'blue', image: 'img:1' }, candidate: { lane: 'green', image: 'img:2' } }, 1);
  upgrades.close();
  const log: string[] = [];
  const config = parseConfig({ runtime: 'docker', fleet: { deployments: ['a', 'b'].map((name) => ({ name, state: `./${name}`, proxy: { admin: 'http://127.0.0.1:1' } })) } });
  const control = new FleetControl({ config, projectRoot: root, stateRoot, open: async (t) => new SmallOrchestrator(t.name, t.name === 'b' ? 'rolled_back' : 'promoted', log) });
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => reply.code(httpStatusFor(error)).send(errorBody(error)));
  registerFleetRoutes(app, configured ? () => control : undefined);
  return { app, control, log, close: () => (control.close(), app.close()) };
}

describe('controller API: /fleets', () => {
  it('POST /fleets answers 202 with the record at once; GET /fleets/:id follows it to its outcome', async () => {
    const { app, close, log } = api();
    const begun = await app.inject({ method: 'POST', url: '/fleets', payload: { upgradeId: 'up-1', onFailure: 'keep' } });
    expect(begun.statusCode).toBe(202);
    const fleet = begun.json().fleet as FleetRecord;
    expect(begun.headers.location).toBe(`/fleets/${fleet.id}`);
    expect(fleet.state).toBe('running');
    let record = fleet;
    for (let i = 0; i < 100 && record.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      record = (await app.inject({ method: 'GET', url: `/fleets/${fleet.id}` })).json().fleet;
    }
    expect(record.state).toBe('failed');
    expect(record.members.map((m) => m.state)).toEqual(['promoted', 'rolled_back']);
    expect(log).toContain('begin b');
    expect((await app.inject({ method: 'GET', url: '/fleets' })).json()).toMatchObject({ ok: true, running: null, fleets: [{ id: fleet.id }] });
    await close();
  });

  it('bad input is 400 with the code naming the field, and nothing begins; an unknown id is 404; no fleet configured is 400', async () => {
    const { app, close, log, control } = api();
    const bad = await app.inject({ method: 'POST', url: '/fleets', payload: { waveSize: 0 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waveSize' });
    expect(control.store.list()).toEqual([]);
    expect(log).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/fleets/nope' })).statusCode).toBe(404);
    await close();
    const bare = api(false);
    const none = await bare.app.inject({ method: 'GET', url: '/fleets' });
    expect([none.statusCode, none.json().error.code]).toEqual([400, 'WVO_FLEET_EMPTY']);
    await bare.close();
  });
});
