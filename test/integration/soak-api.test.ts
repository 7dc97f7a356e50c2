import { afterEach, describe, expect, it } from 'vitest';
import { startController, type RunningController } from '../../controller/src/api/index.js';
import { collectStatus } from '../../controller/src/operations/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { http, TOKEN } from '../helpers/api-rig.js';
import { liveHead, liveTraffic, SOAK_TOKEN, soakRig, type SoakRig } from '../helpers/soak-rig.js';

/** The soak through `wvo serve`'s HTTP API: start, status, metrics, stop, and a restarted controller resuming it. */
describe('soak over the controller API', () => {
  const rigs: SoakRig[] = [];
  const controllers: RunningController[] = [];
  const savedToken = process.env.WVO_ADMIN_TOKEN;
  afterEach(async () => {
    for (const controller of controllers.splice(0)) await controller.close();
    for (const rig of rigs.splice(0)) await rig.cleanup();
    if (savedToken === undefined) delete process.env.WVO_ADMIN_TOKEN;
    else process.env.WVO_ADMIN_TOKEN = savedToken;
  });

  async function serve(r: SoakRig): Promise<RunningController> {
    const controller = await startController(
      { listen: '127.0.0.1:0', token: TOKEN, heartbeatMs: 200, deploymentPollMs: 100 },
      { projectRoot: r.root, stateRoot: r.stateRoot, runtime: r.runtime, images: localImageStore(r.root) },
    );
    controllers.push(controller);
    return controller;
  }

  async function until(url: string, seq: number): Promise<any> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await http(url, 'GET', '/soaks/current');
      if (body.soak.last_seq >= seq || body.soak.state !== 'running' || Date.now() > deadline) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('POST /soaks forks and replays in the background; GET /soaks/:id, /metrics and wvo status show it; a new controller resumes an orphan; stop ends it', async () => {
    process.env.WVO_ADMIN_TOKEN = SOAK_TOKEN;
    const r = await soakRig();
    rigs.push(r);
    const first = await serve(r);
    const bad = await http(first.url, 'POST', '/soaks', { body: { for: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'WVO_SOAK_OPTION_INVALID', subject: 'for' });

    const started = await http(first.url, 'POST', '/soaks', { body: { checkpointCalls: 10 } });
    expect(started.status).toBe(202);
    const id = started.body.soak.id as string;
    expect(started.body).toMatchObject({ ok: true, resumed: false, soak: { state: 'running', fork_seq: 0 } });
    expect((await http(first.url, 'POST', '/soaks', { body: {} })).body.error.code).toBe('WVO_SOAK_RUNNING');

    const writes = await liveTraffic(r.liveUrl, 2, 3);
    const body = await until(first.url, writes);
    expect(body.soak).toMatchObject({ id, state: 'running', replayed: writes, answer_diffs: 0, state_diffs: 0 });
    expect(body.driver_alive).toBe(true);
    const metrics = (await http(first.url, 'GET', '/metrics')).body as string;
    expect(metrics).toMatch(new RegExp(`^wvo_soak_replayed_calls ${writes}$`, 'm'));
    expect(metrics).toMatch(/^wvo_soak_running 1$/m);
    expect(metrics).toMatch(/^wvo_soak_answer_diffs 0$/m);
    const status = await collectStatus({ stateRoot: r.stateRoot, runtime: r.runtime });
    expect(status.soak).toMatchObject({ id, state: 'running', replayed: writes });
    expect(status.soak!.line).toContain(`replayed ${writes} calls`);

    // The controller goes away (its soak stays running); its driver is then gone for good.
    await first.close();
    controllers.splice(controllers.indexOf(first), 1);
    r.store.save({ ...r.store.find(id)!, owner: { pid: 999_999_999, host: 'gone', heartbeat_at: 0 } });
    const more = await liveTraffic(r.liveUrl, 1, 2);
    const second = await serve(r);
    const head = await liveHead(r.liveUrl);
    expect(head).toBe(writes + more);
    const resumed = await until(second.url, head);
    expect(resumed.soak).toMatchObject({ id, state: 'running', last_seq: head, answer_diffs: 0, state_diffs: 0 });

    const stopped = await http(second.url, 'POST', '/soaks/current/stop');
    expect(stopped.status).toBe(200);
    expect(stopped.body.soak).toMatchObject({ id, state: 'stopped', replayed: head, answer_diffs: 0, state_diffs: 0 });
    expect((await http(second.url, 'GET', '/soaks/nope')).status).toBe(404);
  });
});
